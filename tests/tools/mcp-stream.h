/* mcastproxy test tools — what the readers of the test stream share:
 * mcp-recv (one reader) and mcp-fanout (thousands of TCP clients in one
 * loop), and where it fits, mcp-send.
 *
 *  - the cutter: a TCP byte stream in raw, rfc4571 or mpx framing cut into
 *    the datagrams of the test stream (mcp-testpattern.h), whatever the
 *    reads cut it into;
 *  - the checker: a datagram's header, length and pattern, and its
 *    sequence number against those seen before (lost, duplicate, late);
 *  - the small parts of a command-line tool around them: the command line,
 *    SIGINT/SIGTERM, the monotonic clock, the ready file, HOST:PORT.
 *
 * Messages start with the tool's name, given to mcps_parse_args().
 */
#ifndef MCP_STREAM_H
#define MCP_STREAM_H

#include <glib.h>
#include <netdb.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "mcp-testpattern.h"
#include "mcp-wire.h"

/* ---- the tool -------------------------------------------------------- */

#define MCPS_EXIT_OK 0
#define MCPS_EXIT_FAILED 1
#define MCPS_EXIT_USAGE 2

/* Set by SIGINT and SIGTERM once mcps_catch_stop_signals() ran. */
extern volatile sig_atomic_t mcps_stop_requested;

/* Parses the command line with @entries; @summary follows the program name
 * in --help, @description comes after the options. Remembers @tool for
 * the messages. FALSE (with a message) on a bad option or an argument
 * that is not an option: exit with MCPS_EXIT_USAGE. */
gboolean mcps_parse_args (const gchar * tool, const gchar * summary,
    const GOptionEntry * entries, const gchar * description, int *argc,
    char ***argv);

/* The name given to mcps_parse_args(), for messages. */
const gchar *mcps_tool (void);

/* SIGINT and SIGTERM set mcps_stop_requested (so that the tool still
 * reports what it got). With @run_mask, they are also blocked, and
 * @run_mask is the signal mask to wait with (epoll_pwait, ppoll): then no
 * signal is missed between a check of the flag and the wait. */
void mcps_catch_stop_signals (sigset_t * run_mask);

/* CLOCK_MONOTONIC in nanoseconds. */
guint64 mcps_mono_ns (void);

/* Creates @path (if not NULL) with "ready\n"; a message if it cannot. */
void mcps_write_ready_file (const gchar * path);

/* setsockopt(); FALSE with a message naming @what on failure. */
gboolean mcps_set_opt (gint fd, gint level, gint name, const void *value,
    socklen_t len, const gchar * what);

/* Resolves the HOST:PORT ([V6ADDR]:PORT) of --tcp into stream addresses
 * (free with freeaddrinfo()) and sets @host and @port (free with g_free());
 * NULL with a message when it is not one or does not resolve. */
struct addrinfo *mcps_resolve_tcp (const gchar * hostport, gchar ** host,
    gchar ** port);

/* The nearest rank (1..@total) of the @pct percentile of @total values;
 * 0 when @total is 0. */
guint64 mcps_rank (guint64 total, guint pct);

/* ---- the cutter ------------------------------------------------------ */

typedef enum
{
  MCPS_FRAMING_RAW,             /* datagrams back to back, cut by --sizes */
  MCPS_FRAMING_RFC4571,         /* 2-byte length + datagram */
  MCPS_FRAMING_MPX,             /* docs/protocol.md, one DATA per datagram */
} McpsFraming;

/* "raw", "rfc4571" or "mpx"; FALSE for anything else. */
gboolean mcps_framing_parse (const gchar * name, McpsFraming * framing);

typedef enum
{
  MCPS_CUT_NEED_MORE = 0,       /* everything fed is used or held */
  MCPS_CUT_DATAGRAM,            /* item.data, item.len */
  MCPS_CUT_CORRUPT,             /* item.reason; the cutter went on */
  MCPS_CUT_CONTROL,             /* mpx: item.control, item.msg (HELLO, AUTH,
                                 * ERROR; CAPS and KEEPALIVE are skipped) */
  MCPS_CUT_ERROR,               /* mpx: item.reason; the stream is broken */
} McpsCut;

typedef struct
{
  const guint8 *data;           /* DATAGRAM, valid until the next call */
  gsize len;
  McpDecodeResult control;      /* CONTROL */
  McpMessage msg;               /* CONTROL */
  gchar reason[160];            /* CORRUPT, ERROR */
} McpsItem;

/* Cuts one connection's byte stream. Reads go into a buffer that can be
 * shared by many cutters (mcp-fanout's thousands of clients): each cutter
 * holds only the incomplete datagram at the end of the last read, and
 * puts it back in front of the next one.
 *
 *   guint8 *rbuf = g_malloc (mcps_cutter_headroom (&cut) + READ_SIZE);
 *   got = recv (fd, mcps_cutter_load (&cut, rbuf), READ_SIZE, 0);
 *   mcps_cutter_feed (&cut, rbuf, got);
 *   while ((k = mcps_cutter_next (&cut, &item)) != MCPS_CUT_NEED_MORE)
 *     ...
 *
 * A caller that stops calling mcps_cutter_next() before NEED_MORE gives
 * up the rest of the stream: it must not load or feed again. */
typedef struct
{
  McpsFraming framing;
  const McptSizes *sizes;
  gsize hold_max;               /* rfc4571: longer frames are skipped */
  McpDecoder *mpx;

  guint8 *held;                 /* the incomplete datagram of the last feed */
  gsize held_len;
  gsize held_size;
  gsize skip;                   /* rfc4571: rest of a frame being skipped */
  gboolean in_sync;             /* raw: at a datagram boundary */
  guint64 offset;               /* stream offset of buf[0] */
  guint64 bytes;                /* all bytes fed */

  const guint8 *buf;            /* what is being cut, NULL between feeds */
  gsize len;
  gsize pos;
} McpsCutter;

/* @sizes must outlive the cutter. With @skip_long (rfc4571), a frame
 * longer than the largest of @sizes is reported and skipped without being
 * held (less memory per connection); otherwise it is cut like any other,
 * up to 65535 bytes, for the checker to report. */
void mcps_cutter_init (McpsCutter * c, McpsFraming framing,
    const McptSizes * sizes, gboolean skip_long);
void mcps_cutter_clear (McpsCutter * c);

/* How many bytes in front of a read the held datagram may need. */
gsize mcps_cutter_headroom (const McpsCutter * c);

/* Puts the held bytes at the front of @rbuf; returns where to read to. */
guint8 *mcps_cutter_load (McpsCutter * c, guint8 * rbuf);

/* @got bytes were read to where mcps_cutter_load (@c, @rbuf) said; @rbuf
 * must stay as it is until mcps_cutter_next() says NEED_MORE. */
void mcps_cutter_feed (McpsCutter * c, guint8 * rbuf, gsize got);

/* The next datagram or event; NEED_MORE once everything fed is used or
 * held. Inline, like the checker's per-datagram parts below: mcp-fanout
 * calls them for every datagram of thousands of connections. */
static inline McpsCut mcps_cutter_next (McpsCutter * c, McpsItem * item);

/* The stream ended (the peer closed it): FALSE with @reason when that
 * broke the framing (mpx: inside a message). */
gboolean mcps_cutter_finish (McpsCutter * c, gchar * reason, gsize reason_size);

/* Bytes fed but not returned yet (an incomplete datagram or message);
 * when there are some, @reason says so for a report. */
gsize mcps_cutter_pending (McpsCutter * c, gchar * reason, gsize reason_size);

/* ---- the checker ----------------------------------------------------- */

/* Checks datagrams against the pattern: the common case (a good datagram)
 * by one memcmp() with a copy of the pattern, everything else with
 * mcpt_verify() for the reason. */
typedef struct
{
  const McptSizes *sizes;
  guint8 *ref;                  /* ref + pos[v]: the pattern starting with v */
  guint8 pos[256];
  gboolean fast;
} McpsChecker;

/* @sizes must outlive the checker. */
void mcps_checker_init (McpsChecker * k, const McptSizes * sizes);
void mcps_checker_clear (McpsChecker * k);

/* NULL when @p is a good datagram of @stream_id (stream or warm-up), else
 * the reason, written to @reason; as mcpt_verify(). */
static inline const gchar *mcps_checker_verify (const McpsChecker * k,
    const guint8 * p, gsize len, guint32 stream_id, gchar * reason,
    gsize reason_size);

/* One stream's sequence numbers 0..count-1: what arrived, once, in order. */
typedef struct
{
  guint64 count;
  gboolean from_first;          /* counting starts at the first seq seen */
  guint64 window_bits;          /* seqs remembered below expected */
  guint8 *window;

  guint64 expected;             /* next seq in order */
  gint64 first_seq;             /* -1 before the first */
  gint64 last_seq;              /* the highest, -1 before the first */
  guint64 received;             /* once each */
  guint64 lost;
  guint64 duplicates;
  guint64 reordered;
  gboolean complete;            /* seq count-1 arrived */
} McpsSeq;

typedef enum
{
  MCPS_SEQ_NEXT,                /* the highest so far (maybe after a gap) */
  MCPS_SEQ_LATE,                /* a seq of a gap, now arrived */
  MCPS_SEQ_DUPLICATE,           /* seen before, or older than the window */
  MCPS_SEQ_BEYOND,              /* not below count: not counted at all */
} McpsSeqResult;

/* Lost counts from seq 0, or with @from_first (a client that joins
 * mid-stream) from the first seq that arrives. Duplicates are told from
 * late arrivals over the last @window seqs (0: all @count; rounded up to a
 * power of two); an older one counts as a duplicate. */
void mcps_seq_init (McpsSeq * s, guint64 count, guint64 window,
    gboolean from_first);
void mcps_seq_clear (McpsSeq * s);

/* Counts @seq. For NEXT, @skipped gets the number of seqs it jumped over
 * (counted as lost until they come); a NEXT may make it complete. */
static inline McpsSeqResult mcps_seq_add (McpsSeq * s, guint64 seq,
    guint64 * skipped);

/* The stream is over: what never came after the last seq is lost too.
 * Returns that number (0 when counting never started). */
guint64 mcps_seq_finish (McpsSeq * s);

/* The reason for a seq that is MCPS_SEQ_BEYOND. */
void mcps_seq_beyond_reason (const McpsSeq * s, guint64 seq, gchar * reason,
    gsize reason_size);

/* ---- the per-datagram parts, inline -------------------------------- */

/* (the rest of mcps_cutter_next(): the end of what was fed, a raw stream
 * out of step, an rfc4571 frame to skip, mpx) */
McpsCut mcps_cutter_hold_rest (McpsCutter * c);
McpsCut mcps_cutter_next_slow (McpsCutter * c, McpsItem * item);

static inline McpsCut
mcps_cutter_next (McpsCutter * c, McpsItem * item)
{
  const guint8 *p;
  gsize avail, size, head = 0;

  if (c->buf == NULL)
    return c->mpx ? mcps_cutter_next_slow (c, item) : MCPS_CUT_NEED_MORE;
  p = c->buf + c->pos;
  avail = c->len - c->pos;
  if (c->framing == MCPS_FRAMING_RAW) {
    if (avail < MCPT_HEADER_SIZE)
      return mcps_cutter_hold_rest (c);
    if (mcpt_kind (p, avail) == MCPT_KIND_INVALID)
      return mcps_cutter_next_slow (c, item);
    size = mcpt_size_for_seq (c->sizes, mcpt_header_seq (p));
  } else {
    if (avail < MCP_RFC4571_HEADER_LEN)
      return mcps_cutter_hold_rest (c);
    size = ((gsize) p[0] << 8) | p[1];
    if (size > c->hold_max)
      return mcps_cutter_next_slow (c, item);
    head = MCP_RFC4571_HEADER_LEN;
  }
  if (avail < head + size)
    return mcps_cutter_hold_rest (c);
  c->in_sync = TRUE;
  item->data = p + head;
  item->len = size;
  c->pos += head + size;
  return MCPS_CUT_DATAGRAM;
}

static inline const gchar *
mcps_checker_verify (const McpsChecker * k, const guint8 * p, gsize len,
    guint32 stream_id, gchar * reason, gsize reason_size)
{
  if (G_LIKELY (k->fast && len >= MCPT_HEADER_SIZE
          && mcpt_kind (p, len) != MCPT_KIND_INVALID
          && mcpt_header_stream_id (p) == stream_id)) {
    guint64 seq = mcpt_header_seq (p);
    guint8 first = mcpt_pattern_byte (stream_id, seq, MCPT_HEADER_SIZE);

    if (G_LIKELY (len == mcpt_size_for_seq (k->sizes, seq)
            && memcmp (p + MCPT_HEADER_SIZE,
                k->ref + MCPT_HEADER_SIZE + k->pos[first],
                len - MCPT_HEADER_SIZE) == 0))
      return NULL;
  }
  return mcpt_verify (p, len, stream_id, k->sizes, reason, reason_size);
}

/* (the seqs of a gap no longer seen) */
void mcps_seq_forget (McpsSeq * s, guint64 from, guint64 to);

static inline McpsSeqResult
mcps_seq_add (McpsSeq * s, guint64 seq, guint64 * skipped)
{
  McpsSeqResult result;
  guint64 i;

  if (seq >= s->count)
    return MCPS_SEQ_BEYOND;
  if (G_UNLIKELY (s->first_seq < 0)) {
    s->first_seq = (gint64) seq;
    if (s->from_first)
      s->expected = seq;
  }
  if (G_LIKELY (seq >= s->expected)) {
    guint64 gap = seq - s->expected;

    if (G_UNLIKELY (gap > 0))
      mcps_seq_forget (s, s->expected, seq);
    s->lost += gap;
    s->expected = seq + 1;
    s->last_seq = (gint64) seq;
    if (s->expected == s->count)
      s->complete = TRUE;
    *skipped = gap;
    result = MCPS_SEQ_NEXT;
  } else {
    gboolean seen;

    i = seq & (s->window_bits - 1);
    seen = (s->window[i / 8] >> (i % 8)) & 1;
    if (seen || s->expected - seq > s->window_bits) {
      s->duplicates++;
      return MCPS_SEQ_DUPLICATE;
    }
    /* counted as lost when the gap opened, unless before the first */
    s->reordered++;
    if (!s->from_first || seq > (guint64) s->first_seq)
      s->lost--;
    result = MCPS_SEQ_LATE;
  }
  i = seq & (s->window_bits - 1);
  s->window[i / 8] |= (guint8) (1u << (i % 8));
  s->received++;
  return result;
}

#endif /* MCP_STREAM_H */
