/* mcastproxy — duplicate suppression for forwarded datagrams. */
#include "config.h"

#include "mcp-dedup.h"

#include <string.h>

/* Further back than this below the highest sequence number is a restarted
 * origin counting from a new epoch, not a late datagram. */
#define RESTART_DISTANCE (G_GUINT64_CONSTANT (1) << 32)

typedef struct
{
  guint64 origin_id;
  guint8 group[16];
  guint16 port;
  guint8 family;
} McpDedupKey;

typedef struct _McpDedupStream McpDedupStream;

struct _McpDedupStream
{
  McpDedupKey key;
  /* Least recently seen first: the head is the one to evict or expire. */
  McpDedupStream *older;
  McpDedupStream *newer;
  gint64 last_seen;
  guint64 highest;
  /* A ring of window bits; the bit of seq is seq mod window. */
  guint64 bits[];
};

struct _McpDedup
{
  GHashTable *streams;          /* McpDedupKey * -> McpDedupStream * */
  McpDedupStream *oldest;
  McpDedupStream *newest;
  /* Datagrams come in runs of one stream: skips the hash most of the time. */
  McpDedupStream *last;
  guint64 window;               /* in sequence numbers, a multiple of 64 */
  guint n_words;
  guint word_mask;              /* n_words - 1 if a power of two, else 0 */
  guint max_origins;
  gint64 idle_expiry_us;
};

static guint
key_hash (gconstpointer p)
{
  const McpDedupKey *k = p;
  guint64 g0, g1, h;

  memcpy (&g0, k->group, 8);
  memcpy (&g1, k->group + 8, 8);
  /* one multiply per word, then the splitmix64 finaliser's last rounds */
  h = k->origin_id * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  h ^= (g0 ^ ((guint64) k->port << 8 | k->family)) *
      G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  h ^= g1 * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  h ^= h >> 29;
  h *= G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  h ^= h >> 32;
  return (guint) h;
}

static gboolean
key_equal (gconstpointer a, gconstpointer b)
{
  const McpDedupKey *ka = a, *kb = b;

  return ka->origin_id == kb->origin_id && ka->port == kb->port
      && ka->family == kb->family
      && memcmp (ka->group, kb->group, sizeof (ka->group)) == 0;
}

static void
key_init (McpDedupKey * key, const McpFrameMeta * meta)
{
  key->origin_id = meta->origin_id;
  key->port = meta->port;
  key->family = meta->family;
  /* IPv4 lives in the first 4 bytes; the rest is not part of the address */
  if (meta->family == 4) {
    memcpy (key->group, meta->group, 4);
    memset (key->group + 4, 0, sizeof (key->group) - 4);
  } else {
    memcpy (key->group, meta->group, sizeof (key->group));
  }
}

static inline guint
word_index (McpDedup * dedup, guint64 seq)
{
  if (dedup->word_mask)
    return (guint) ((seq >> 6) & dedup->word_mask);
  return (guint) ((seq >> 6) % dedup->n_words);
}

/* Clears the bits of the count positions starting at from, count < window. */
static void
clear_range (McpDedup * dedup, McpDedupStream * s, guint64 from, guint64 count)
{
  while (count > 0) {
    guint bit = from & 63;
    guint64 n = MIN (count, (guint64) (64 - bit));
    guint64 mask = n == 64 ? ~G_GUINT64_CONSTANT (0)
        : ((G_GUINT64_CONSTANT (1) << n) - 1) << bit;

    s->bits[word_index (dedup, from)] &= ~mask;
    from += n;
    count -= n;
  }
}

static void
stream_reset (McpDedup * dedup, McpDedupStream * s, guint64 seq)
{
  memset (s->bits, 0, dedup->n_words * sizeof (guint64));
  s->highest = seq;
  s->bits[word_index (dedup, seq)] |= G_GUINT64_CONSTANT (1) << (seq & 63);
}

static void
lru_unlink (McpDedup * dedup, McpDedupStream * s)
{
  if (s->older)
    s->older->newer = s->newer;
  else
    dedup->oldest = s->newer;
  if (s->newer)
    s->newer->older = s->older;
  else
    dedup->newest = s->older;
  s->older = s->newer = NULL;
}

static void
lru_append (McpDedup * dedup, McpDedupStream * s)
{
  s->older = dedup->newest;
  s->newer = NULL;
  if (dedup->newest)
    dedup->newest->newer = s;
  else
    dedup->oldest = s;
  dedup->newest = s;
}

static void
stream_forget (McpDedup * dedup, McpDedupStream * s)
{
  lru_unlink (dedup, s);
  if (dedup->last == s)
    dedup->last = NULL;
  /* frees s, which holds the key */
  g_hash_table_remove (dedup->streams, &s->key);
}

/* The list is in order of last_seen as long as now_us does not go back, so
 * only its head needs looking at: O(1) amortised. */
static void
expire_idle (McpDedup * dedup, gint64 now_us)
{
  while (dedup->oldest && now_us - dedup->oldest->last_seen >
      dedup->idle_expiry_us)
    stream_forget (dedup, dedup->oldest);
}

McpDedup *
mcp_dedup_new (guint window, guint max_origins, gint64 idle_expiry_us)
{
  McpDedup *dedup;
  guint64 n_words;

  g_return_val_if_fail (max_origins > 0, NULL);
  g_return_val_if_fail (idle_expiry_us >= 0, NULL);

  n_words = MAX (((guint64) window + 63) / 64, 1);

  dedup = g_new0 (McpDedup, 1);
  dedup->streams = g_hash_table_new_full (key_hash, key_equal, NULL, g_free);
  dedup->n_words = (guint) n_words;
  dedup->window = n_words * 64;
  if ((n_words & (n_words - 1)) == 0)
    dedup->word_mask = (guint) n_words - 1;
  dedup->max_origins = max_origins;
  dedup->idle_expiry_us = idle_expiry_us;
  return dedup;
}

void
mcp_dedup_free (McpDedup * dedup)
{
  if (dedup == NULL)
    return;
  g_hash_table_destroy (dedup->streams);
  g_free (dedup);
}

static McpDedupStream *
stream_add (McpDedup * dedup, const McpDedupKey * key, guint64 seq,
    gint64 now_us)
{
  McpDedupStream *s;

  if (g_hash_table_size (dedup->streams) >= dedup->max_origins)
    stream_forget (dedup, dedup->oldest);

  s = g_malloc (sizeof (McpDedupStream) + dedup->n_words * sizeof (guint64));
  s->key = *key;
  s->last_seen = now_us;
  stream_reset (dedup, s, seq);
  lru_append (dedup, s);
  g_hash_table_insert (dedup->streams, &s->key, s);
  return s;
}

McpDedupResult
mcp_dedup_check (McpDedup * dedup, const McpFrameMeta * meta, gint64 now_us)
{
  McpDedupKey key;
  McpDedupStream *s;
  guint64 seq, diff, bit;
  guint64 *word;

  g_return_val_if_fail (dedup != NULL, MCP_DEDUP_NEW);
  g_return_val_if_fail (meta != NULL, MCP_DEDUP_NEW);

  if (dedup->idle_expiry_us > 0)
    expire_idle (dedup, now_us);

  key_init (&key, meta);
  seq = meta->seq;
  s = dedup->last;
  if (s == NULL || !key_equal (&key, &s->key)) {
    s = g_hash_table_lookup (dedup->streams, &key);
    if (G_UNLIKELY (s == NULL)) {
      dedup->last = stream_add (dedup, &key, seq, now_us);
      return MCP_DEDUP_NEW;
    }
    dedup->last = s;
  }

  s->last_seen = now_us;
  if (s != dedup->newest) {
    lru_unlink (dedup, s);
    lru_append (dedup, s);
  }

  if (seq > s->highest) {
    diff = seq - s->highest;
    if (diff >= dedup->window)
      memset (s->bits, 0, dedup->n_words * sizeof (guint64));
    else
      clear_range (dedup, s, s->highest + 1, diff);
    s->highest = seq;
    s->bits[word_index (dedup, seq)] |= G_GUINT64_CONSTANT (1) << (seq & 63);
    return MCP_DEDUP_NEW;
  }

  diff = s->highest - seq;
  if (diff < dedup->window) {
    word = &s->bits[word_index (dedup, seq)];
    bit = G_GUINT64_CONSTANT (1) << (seq & 63);
    if (*word & bit)
      return MCP_DEDUP_DUPLICATE;
    /* late or reordered */
    *word |= bit;
    return MCP_DEDUP_NEW;
  }

  if (diff > RESTART_DISTANCE) {
    stream_reset (dedup, s, seq);
    return MCP_DEDUP_NEW;
  }
  return MCP_DEDUP_TOO_OLD;
}

guint
mcp_dedup_get_n_streams (McpDedup * dedup)
{
  g_return_val_if_fail (dedup != NULL, 0);

  return g_hash_table_size (dedup->streams);
}

guint64
mcp_seq_new_epoch (void)
{
  return (guint64) (g_random_int () & 0xffffff) << 40;
}
