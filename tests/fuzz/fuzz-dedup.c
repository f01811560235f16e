/* mcastproxy fuzzing — duplicate suppression (mcp-dedup) against a plain
 * model: a set of every sequence number seen per stream.
 *
 * Input: byte 0 the window (x 8), byte 1 the most streams (bits 0-2: 1 to
 * 8), byte 2 the idle expiry (x 1 ms, 0: never); then checks of 6 bytes:
 *   byte 0   bits 0-2: which of 8 streams; bit 7: the step is x 2^24
 *   1-4      signed step from that stream's last sequence number
 *   5        time passing before the check (x 100 us)
 */
#include "config.h"

#include "mcp-dedup.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define N_KEYS 8
/* mcp-dedup.c's RESTART_DISTANCE: further below the highest number than
 * this is a restarted origin. */
#define RESTART_DISTANCE (G_GUINT64_CONSTANT (1) << 32)

typedef struct
{
  gboolean present;
  guint64 touched;              /* when last checked, in checks */
  gint64 last_seen;
  guint64 highest;
  GHashTable *seen;             /* of guint64 * */
} ModelStream;

typedef struct
{
  ModelStream streams[N_KEYS];
  guint64 window;
  guint max_streams;
  gint64 expiry;
} Model;

static void
key_meta (guint key, guint64 seq, McpFrameMeta * meta)
{
  memset (meta, 0, sizeof (*meta));
  /* the keys differ in one field each: origin, family, group, port */
  meta->origin_id = key & 1 ? G_GUINT64_CONSTANT (0x1122334455667788) : 7;
  meta->family = key & 2 ? 6 : 4;
  meta->group[0] = 0xff;
  /* beyond the 4 bytes of IPv4: not part of an IPv4 key */
  meta->group[15] = key & 4 ? 1 : 0;
  meta->port = 5004;
  meta->seq = seq;
}

static void
model_forget (ModelStream * s)
{
  g_clear_pointer (&s->seen, g_hash_table_unref);
  s->present = FALSE;
}

static void
model_restart (ModelStream * s, guint64 seq)
{
  g_clear_pointer (&s->seen, g_hash_table_unref);
  s->seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  s->highest = seq;
  g_hash_table_add (s->seen, g_memdup2 (&seq, sizeof (seq)));
}

/* Same key as another one for mcp-dedup? (the IPv4 keys ignore group[15]) */
static guint
canonical_key (guint key)
{
  return (key & 2) ? key : (key & ~4u);
}

static guint
model_n_streams (Model * m)
{
  guint i, n = 0;

  for (i = 0; i < N_KEYS; i++)
    n += m->streams[i].present;
  return n;
}

static McpDedupResult
model_check (Model * m, guint key, guint64 seq, gint64 now, guint64 tick)
{
  ModelStream *s = &m->streams[key];
  guint64 diff;
  guint i;

  for (i = 0; i < N_KEYS; i++)
    if (m->expiry > 0 && m->streams[i].present
        && now - m->streams[i].last_seen > m->expiry)
      model_forget (&m->streams[i]);

  if (!s->present) {
    if (model_n_streams (m) >= m->max_streams) {
      ModelStream *oldest = NULL;

      for (i = 0; i < N_KEYS; i++)
        if (m->streams[i].present && (!oldest
                || m->streams[i].touched < oldest->touched))
          oldest = &m->streams[i];
      model_forget (oldest);
    }
    s->present = TRUE;
    s->touched = tick;
    s->last_seen = now;
    model_restart (s, seq);
    return MCP_DEDUP_NEW;
  }

  s->touched = tick;
  s->last_seen = now;
  if (seq > s->highest) {
    s->highest = seq;
    g_hash_table_add (s->seen, g_memdup2 (&seq, sizeof (seq)));
    return MCP_DEDUP_NEW;
  }
  diff = s->highest - seq;
  if (diff < m->window) {
    if (g_hash_table_contains (s->seen, &seq))
      return MCP_DEDUP_DUPLICATE;
    g_hash_table_add (s->seen, g_memdup2 (&seq, sizeof (seq)));
    return MCP_DEDUP_NEW;
  }
  if (diff > RESTART_DISTANCE) {
    model_restart (s, seq);
    return MCP_DEDUP_NEW;
  }
  return MCP_DEDUP_TOO_OLD;
}

static gint32
get_i32 (const guint8 * p)
{
  return (gint32) (((guint32) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  Model m = { 0 };
  guint64 last_seq[N_KEYS] = { 0 };
  McpDedup *dedup;
  gint64 now = 1000000;
  guint window;
  gsize off;
  guint i;

  if (size < 3)
    return 0;
  window = data[0] * 8;
  m.window = MAX ((window + 63) / 64, 1) * 64;
  m.max_streams = (data[1] & 7) + 1;
  m.expiry = data[2] * 1000;
  dedup = mcp_dedup_new (window, m.max_streams, m.expiry);

  for (off = 3; off + 6 <= size; off += 6) {
    const guint8 *op = data + off;
    guint key = canonical_key (op[0] & 7);
    gint64 step = get_i32 (op + 1);
    McpFrameMeta meta;
    McpDedupResult want, got;

    if (op[0] & 0x80)
      step *= 1 << 24;
    last_seq[key] += (guint64) step;
    now += op[5] * 100;
    key_meta (op[0] & 7, last_seq[key], &meta);

    want = model_check (&m, key, last_seq[key], now, off);
    got = mcp_dedup_check (dedup, &meta, now);
    g_assert_cmpint (got, ==, want);
    g_assert_cmpuint (mcp_dedup_get_n_streams (dedup), ==,
        model_n_streams (&m));
    /* the same datagram again, at once, is a duplicate (or still too old) */
    got = mcp_dedup_check (dedup, &meta, now);
    g_assert_cmpint (got, ==,
        want == MCP_DEDUP_TOO_OLD ? MCP_DEDUP_TOO_OLD : MCP_DEDUP_DUPLICATE);
    m.streams[key].touched = off;
  }

  mcp_dedup_free (dedup);
  for (i = 0; i < N_KEYS; i++)
    model_forget (&m.streams[i]);
  return 0;
}
