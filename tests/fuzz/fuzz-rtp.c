/* mcastproxy fuzzing — RTP headers and the reorder window (mcp-rtp).
 *
 * Input: byte 0 even: the rest is a packet for mcp_rtp_parse. Byte 0 odd:
 * the reorder window; bit 1 of byte 0: free it at the end instead of
 * draining it; byte 1: window - 1 (modulo 64), byte 2: max_delay / 8;
 * then operations of 4 bytes [op, a, b, dt]: time moves on by dt, then
 * op & 3 is 0 or 1: push, seq = a << 8 | b when op & 8, else the last
 * seq plus (gint8) b; the SSRC is 1 + (op >> 2 & 1); 2: expire; 3: drain.
 *
 * Checks: a parsed payload lies in the packet; every item pushed is put
 * out exactly once or destroyed exactly once; within a run (from a start,
 * an SSRC change or a jump of more than MCP_RTP_REORDER_MAX_JUMP) the
 * items come out with strictly increasing sequence numbers, runs in
 * order; at most window items wait, none longer than max_delay after an
 * expiry, whose deadline is the earliest arrival plus max_delay; the
 * statistics add up (duplicates + late = destroyed, reordered as a model
 * counts them, lost = the numbers skipped within the runs).
 */
#include "config.h"

#include "mcp-rtp.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

enum
{
  PENDING,
  OUT,
  DESTROYED,
};

typedef struct _Run Run;

typedef struct
{
  guint state;
  guint16 seq;
  guint64 time;
  guint run;
} Item;

struct _Run
{
  guint16 first, last;
  guint64 span;                 /* last - first, unwrapped */
  guint64 n_out;
};

typedef struct
{
  GArray *items;                /* Item *, by push order */
  GArray *runs;                 /* Run */
  guint64 destroyed;
  guint64 reordered;
  gint last_run;                /* of the last item put out, -1: none */
  /* the model of runs */
  gboolean active;
  guint32 ssrc;
  guint16 highest;
} Model;

static guint64 n_destroyed_total;

static void
destroy_item (gpointer p)
{
  Item *item = p;

  g_assert_cmpuint (item->state, ==, PENDING);
  item->state = DESTROYED;
  n_destroyed_total++;
}

static void
fuzz_parse (const guint8 * data, gsize len)
{
  McpRtpHeader hdr;
  GError *err = NULL;

  if (!mcp_rtp_parse (data, len, &hdr, &err)) {
    g_assert_nonnull (err);
    g_assert_true (err->domain == MCP_RTP_ERROR);
    g_assert_cmpuint (strlen (err->message), >, 0);
    g_assert_null (strchr (err->message, '\n'));
    g_error_free (err);
    return;
  }
  g_assert_no_error (err);
  g_assert_cmpuint (len, >=, 12);
  g_assert_cmpuint (data[0] >> 6, ==, 2);
  g_assert_cmpuint (hdr.payload_offset, >=, 12 + 4 * (data[0] & 0x0f));
  g_assert_cmpuint (hdr.payload_offset, <=, len);
  g_assert_cmpuint (hdr.payload_len, <=, len - hdr.payload_offset);
  if (data[0] & 0x20)
    g_assert_cmpuint (hdr.payload_offset + hdr.payload_len + data[len - 1],
        ==, len);
  else
    g_assert_cmpuint (hdr.payload_offset + hdr.payload_len, ==, len);
  g_assert_cmpuint (hdr.seq, ==, (data[2] << 8) | data[3]);
  g_assert_cmpuint (hdr.payload_type, ==, data[1] & 0x7f);
  g_assert_cmpint (hdr.marker, ==, (data[1] & 0x80) != 0);
}

/* What came out: each item once, in order within its run. */
static void
take_out (Model * m, GPtrArray * out)
{
  guint i;

  for (i = 0; i < out->len; i++) {
    Item *item = g_ptr_array_index (out, i);
    Run *run = &g_array_index (m->runs, Run, item->run);

    g_assert_cmpuint (item->state, ==, PENDING);
    item->state = OUT;
    g_assert_cmpint ((gint) item->run, >=, m->last_run);
    if ((gint) item->run == m->last_run) {
      guint16 d = item->seq - run->last;

      g_assert_cmpuint (d, >, 0);
      g_assert_cmpuint (d, <, 32768);
      run->span += d;
    } else {
      /* a run starts with its first packet */
      g_assert_cmpuint (run->n_out, ==, 0);
      g_assert_cmpuint (item->seq, ==, run->first);
    }
    run->last = item->seq;
    run->n_out++;
    m->last_run = item->run;
  }
  g_ptr_array_set_size (out, 0);
}

static guint
count_pending (Model * m, guint64 * earliest)
{
  guint i, n = 0;

  *earliest = G_MAXUINT64;
  for (i = 0; i < m->items->len; i++) {
    Item *item = g_array_index (m->items, Item *, i);

    if (item->state != PENDING)
      continue;
    g_assert_cmpuint (item->run, ==, m->runs->len - 1);
    *earliest = MIN (*earliest, item->time);
    n++;
  }
  return n;
}

static void
push (Model * m, McpRtpReorder * r, guint16 seq, guint32 ssrc, guint64 now,
    GPtrArray * out)
{
  Item *item = g_new0 (Item, 1);
  gint jump = (gint16) (seq - m->highest);
  gboolean behind = FALSE;
  guint64 destroyed_before = n_destroyed_total;

  if (!m->active || ssrc != m->ssrc || ABS (jump) > MCP_RTP_REORDER_MAX_JUMP) {
    Run run = { seq, seq, 0, 0 };

    g_array_append_val (m->runs, run);
    m->active = TRUE;
    m->ssrc = ssrc;
    m->highest = seq;
  } else if (jump > 0) {
    m->highest = seq;
  } else if (jump < 0) {
    behind = TRUE;
  }
  item->seq = seq;
  item->time = now;
  item->run = m->runs->len - 1;
  g_array_append_val (m->items, item);

  mcp_rtp_reorder_push (r, seq, ssrc, item, now, out);
  take_out (m, out);
  g_assert_cmpuint (n_destroyed_total - destroyed_before, <=, 1);
  if (item->state == DESTROYED) {
    g_assert_cmpuint (n_destroyed_total - destroyed_before, ==, 1);
    m->destroyed++;
  } else if (behind) {
    m->reordered++;
  }
}

static void
check_stats (Model * m, McpRtpReorder * r)
{
  McpRtpReorderStats stats;
  guint64 lost = 0;
  guint i;

  mcp_rtp_reorder_get_stats (r, &stats);
  for (i = 0; i < m->runs->len; i++) {
    Run *run = &g_array_index (m->runs, Run, i);

    g_assert_cmpuint (run->n_out, >, 0);
    lost += run->span + 1 - run->n_out;
  }
  g_assert_cmpuint (stats.duplicates + stats.late, ==, m->destroyed);
  g_assert_cmpuint (stats.reordered, ==, m->reordered);
  g_assert_cmpuint (stats.lost, ==, lost);
}

static void
fuzz_reorder (const guint8 * data, gsize size)
{
  guint window = 1 + data[1] % 64;
  guint64 max_delay = data[2] * 8;
  gboolean free_at_end = (data[0] & 2) != 0;
  McpRtpReorder *r = mcp_rtp_reorder_new (window, max_delay, destroy_item);
  GPtrArray *out = g_ptr_array_new ();
  Model m = { 0, };
  guint64 now = 0, earliest, deadline;
  guint16 seq = 0;
  gsize pos;
  guint i;

  m.items = g_array_new (FALSE, FALSE, sizeof (Item *));
  m.runs = g_array_new (FALSE, FALSE, sizeof (Run));
  m.last_run = -1;
  n_destroyed_total = 0;

  for (pos = 3; pos + 4 <= size; pos += 4) {
    const guint8 *op = data + pos;

    now += op[3];
    switch (op[0] & 3) {
      case 0:
      case 1:
        if (op[0] & 8)
          seq = (op[1] << 8) | op[2];
        else
          seq += (gint8) op[2];
        push (&m, r, seq, 1 + ((op[0] >> 2) & 1), now, out);
        break;
      case 2:
        deadline = mcp_rtp_reorder_expire (r, now, out);
        take_out (&m, out);
        count_pending (&m, &earliest);
        if (earliest == G_MAXUINT64) {
          g_assert_cmpuint (deadline, ==, G_MAXUINT64);
        } else {
          g_assert_cmpuint (now - earliest, <, max_delay);
          g_assert_cmpuint (deadline, ==, earliest + max_delay);
        }
        break;
      default:
        mcp_rtp_reorder_drain (r, out);
        take_out (&m, out);
        g_assert_cmpuint (count_pending (&m, &earliest), ==, 0);
        break;
    }
    g_assert_cmpuint (count_pending (&m, &earliest), <=, window);
  }

  if (free_at_end) {
    guint64 pending = count_pending (&m, &earliest);

    mcp_rtp_reorder_free (r);
    m.destroyed += pending;
    g_assert_cmpuint (count_pending (&m, &earliest), ==, 0);
    g_assert_cmpuint (n_destroyed_total, ==, m.destroyed);
  } else {
    mcp_rtp_reorder_drain (r, out);
    take_out (&m, out);
    g_assert_cmpuint (count_pending (&m, &earliest), ==, 0);
    check_stats (&m, r);
    mcp_rtp_reorder_free (r);
    g_assert_cmpuint (n_destroyed_total, ==, m.destroyed);
  }

  for (i = 0; i < m.items->len; i++)
    g_free (g_array_index (m.items, Item *, i));
  g_array_unref (m.items);
  g_array_unref (m.runs);
  g_ptr_array_unref (out);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  if (size < 1)
    return 0;
  if ((data[0] & 1) == 0)
    fuzz_parse (data + 1, size - 1);
  else if (size >= 3)
    fuzz_reorder (data, size);
  return 0;
}
