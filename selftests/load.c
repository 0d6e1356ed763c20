// SPDX-License-Identifier: GPL-2.0
/*
 * ethertap: concurrent load on tap0 and tap1, and exact conservation of
 * frames.
 *
 * For ETHERTAP_LOAD_SECONDS (default 3) seconds, per tap: writer threads
 * (each with its own /dev/tapN) inject valid UDP frames addressed to a
 * local socket, a UDP sender makes the stack transmit datagrams through
 * the tap, and reader threads (each with its own non-blocking file,
 * waiting in poll()) read them.  The queues are short so that copies are
 * lost.  Afterwards (senders stopped, readers drained, files closed) the
 * counters must add up exactly, per tap:
 *
 *   written                  = rx_packets                (rx_bytes too)
 *   received by the socket   = written - UDP receive errors
 *   sent                     = tx_packets + tx_dropped
 *   readers * (tx_packets + tx_dropped_queue_full)
 *          = frames read + tx_reader_copy_dropped + tx_unread_at_close
 *            + tx_read_fault
 *
 * The last one holds because every reader's file (the writers' files are
 * O_WRONLY and get no frames) is attached for the whole run: each frame the
 * tap transmits offers one copy to every reader; a copy is queued or counted in
 * tx_reader_copy_dropped, a queued copy is read or counted at close; the
 * frame counts in tx_packets if some copy was queued, in
 * tx_dropped_queue_full if none was.
 */
#include "lib.h"
#include "traffic.h"
#include "harness.h"

#define LOAD_QLEN	64

FIXTURE(load) {
	struct tapload tl[2];
};

FIXTURE_SETUP(load)
{
	unsigned int t;

	for (t = 0; t < 2; t++)
		tapload_init(&self->tl[t]);
	REQUIRE_TAPS(return, 2);
	for (t = 0; t < 2; t++)
		ASSERT_EQ(0, tapload_setup(&self->tl[t], t, LOAD_QLEN));
}

FIXTURE_TEARDOWN(load)
{
	unsigned int t;

	for (t = 0; t < 2; t++)
		tapload_teardown(&self->tl[t]);
}

static uint64_t delta(const struct tapload *tl, int i)
{
	return tapload_delta(tl, i);
}

TEST_F_TIMEOUT(load, conservation, 300)
{
	const char *env = getenv("ETHERTAP_LOAD_SECONDS");
	double secs = env && *env ? atof(env) : 3, t0, t1;
	uint64_t udp_err0, udp_err1, written_all = 0, rcvd_all = 0, read_all = 0;
	unsigned int t, i;

	udp_err0 = udp_snmp("InErrors");
	ASSERT_NE(UINT64_MAX, udp_err0);
	for (t = 0; t < 2; t++)
		ASSERT_EQ(0, tap_stats(t, &self->tl[t].before));

	t0 = now_s();
	for (t = 0; t < 2; t++)
		ASSERT_EQ(0, tapload_start(&self->tl[t]));
	usleep(secs * 1e6);

	/* Stop the traffic: after the joins every frame is queued or lost. */
	for (t = 0; t < 2; t++)
		tapload_stop_tx(&self->tl[t]);
	/* Readers drain their queues and stop; then every file closes. */
	for (t = 0; t < 2; t++)
		tapload_stop_rx(&self->tl[t]);
	t1 = now_s();
	udp_err1 = udp_snmp("InErrors");

	for (t = 0; t < 2; t++) {
		struct tapload *tl = &self->tl[t];
		uint64_t written = 0, wbytes = 0, nomem = 0, sent = 0;
		uint64_t refused = 0, nread = 0, foreign = 0;
		uint64_t tx, drop, full, copy, unread, fault, files;
		size_t flen = UDP_FRAME(tx_plen[t]);
		char rd[128];
		int off = 0;

		ASSERT_EQ(0, tap_stats(t, &tl->after));
		for (i = 0; i < WRITERS; i++) {
			EXPECT_EQ(0, tl->w[i].err[0])
				TH_LOG("tap%u writer %u: %s", t, i, tl->w[i].err);
			written += tl->w[i].frames;
			wbytes += tl->w[i].bytes;
			nomem += tl->w[i].nomem;
		}
		for (i = 0; i < SENDERS; i++) {
			EXPECT_EQ(0, tl->s[i].err[0])
				TH_LOG("tap%u sender %u: %s", t, i, tl->s[i].err);
			sent += tl->s[i].frames;
			refused += tl->s[i].nomem;
		}
		for (i = 0; i < READERS; i++) {
			EXPECT_EQ(0, tl->r[i].err[0])
				TH_LOG("tap%u reader %u: %s", t, i, tl->r[i].err);
			EXPECT_GE(delta(tl, S_TX_PACKETS), tl->r[i].frames);
			nread += tl->r[i].frames;
			foreign += tl->r[i].foreign + tl->r[i].arp;
			off += snprintf(rd + off, sizeof(rd) - off, "%s%" PRIu64,
					i ? "+" : "", tl->r[i].frames);
		}
		EXPECT_EQ(0, tl->rcv.err[0]) TH_LOG("tap%u: %s", t, tl->rcv.err);
		tx = delta(tl, S_TX_PACKETS);
		drop = delta(tl, S_TX_DROPPED);
		full = delta(tl, E_TX_DROPPED_QUEUE_FULL);
		copy = delta(tl, E_TX_READER_COPY_DROPPED);
		unread = delta(tl, E_TX_UNREAD_AT_CLOSE);
		fault = delta(tl, E_TX_READ_FAULT);
		files = READERS;

		printf("# load: tap%u written %" PRIu64 ", rx %" PRIu64
		       ", socket got %" PRIu64 "; sent %" PRIu64 ", tx %" PRIu64
		       ", dropped %" PRIu64 " (all queues full %" PRIu64
		       "), read %" PRIu64 " (%s), copies dropped %" PRIu64
		       ", unread at close %" PRIu64 "\n", t, written,
		       delta(tl, S_RX_PACKETS), tl->rcv.frames, sent, tx, drop,
		       full, nread, rd, copy, unread);

		/* The receive side. */
		EXPECT_LT(0, written);
		EXPECT_EQ(written, delta(tl, S_RX_PACKETS));
		EXPECT_EQ(wbytes, delta(tl, S_RX_BYTES));
		EXPECT_EQ(0, delta(tl, S_RX_ERRORS));
		EXPECT_EQ(nomem, delta(tl, S_RX_DROPPED));
		EXPECT_EQ(nomem, delta(tl, E_RX_DROPPED_NOMEM));
		written_all += written;
		rcvd_all += tl->rcv.frames;
		read_all += nread;

		/* The transmit side. */
		EXPECT_LT(0, sent);
		EXPECT_LT(0, nread);
		EXPECT_EQ(0, foreign) TH_LOG("tap%u: %" PRIu64 " frames not ours",
					     t, foreign);
		EXPECT_EQ(sent, tx + drop) TH_LOG("tap%u: sent %" PRIu64
						  ", tx %" PRIu64 " + dropped %"
						  PRIu64, t, sent, tx, drop);
		EXPECT_EQ(full + delta(tl, E_TX_DROPPED_NOMEM), drop);
		EXPECT_EQ(0, delta(tl, E_TX_DROPPED_NO_READER));
		EXPECT_EQ(tx * flen, delta(tl, S_TX_BYTES));
		EXPECT_EQ(0, delta(tl, E_TX_READ_TRUNCATED));
		EXPECT_EQ(files * (tx + full), nread + foreign + copy + unread + fault)
			TH_LOG("tap%u: %" PRIu64 " files x (tx %" PRIu64
			       " + all-full %" PRIu64 ") != read %" PRIu64
			       " + copies dropped %" PRIu64 " + unread %"
			       PRIu64 " + fault %" PRIu64, t, files, tx, full,
			       nread + foreign, copy, unread, fault);
		/*
		 * The readers emptied their queues before closing; the
		 * writers' files are write-only and queue nothing.
		 */
		EXPECT_EQ(0, unread);
		if (refused)
			printf("# load: tap%u: %" PRIu64 " sends refused\n", t,
			       refused);
	}
	/* Every written datagram reached the sockets or was counted lost. */
	printf("# load: sockets got %" PRIu64 " of %" PRIu64
	       " written, UDP InErrors +%" PRIu64 ", %.1f s\n", rcvd_all,
	       written_all, udp_err1 - udp_err0, t1 - t0);
	EXPECT_EQ(written_all, rcvd_all + (udp_err1 - udp_err0));
	/* For make check's figures: frames written plus frames read. */
	printf("# figure: frames_moved %" PRIu64 "\n", written_all + read_all);
}

TEST_HARNESS_MAIN
