/* mcastproxy — MPEG-TS analysis for fast channel start. */
#include "config.h"

#include "mcp-ts.h"
#include "mcp-bytes.h"

#include <string.h>

#define PID_PAT 0x0000
#define PID_NULL 0x1FFF
/* PIDs below this are reserved (PAT, CAT, TSDT, ...) */
#define PID_FIRST_FREE 0x0010
#define TABLE_PAT 0x00
#define TABLE_PMT 0x02
/* section_length of a PAT or PMT shall not exceed 1021 */
#define MAX_SECTION (3 + 1021)
/* table_id to last_section_number (8 bytes), then the CRC_32 */
#define SECTION_HEADER 8
#define SECTION_CRC 4

typedef enum
{
  CODEC_NONE,                   /* not video: every PES start */
  CODEC_H264,
  CODEC_HEVC,
  CODEC_MPEG2,
  CODEC_MPEG4,
  CODEC_AVS,
  CODEC_VC1,
} Codec;

/* One PSI section being gathered from the packets of one PID. */
typedef struct
{
  gint cc;                      /* of the last packet, -1: not gathering */
  guint len;                    /* bytes of section so far */
  guint n_packets;
  guint8 section[MAX_SECTION];
  guint8 packets[MCP_TS_MAX_SECTION_PACKETS * MCP_TS_PACKET_SIZE];
} Section;

struct _McpTsTracker
{
  Section pat_section;
  Section pmt_section;
  GBytes *pat;                  /* packets of the latest PAT */
  GBytes *pmt;                  /* packets of the latest PMT */
  gint program_number;
  gint pmt_pid;
  gint rap_pid;
  guint8 rap_stream_type;
  Codec rap_codec;
  McpTsStats stats;
};

/* The parts of one TS packet that matter here. */
typedef struct
{
  const guint8 *data;           /* the 188 bytes */
  guint pid;
  gboolean pusi;
  gboolean scrambled;
  gboolean rai;
  guint cc;
  const guint8 *payload;        /* NULL when none */
  guint payload_len;
} Packet;

gboolean
mcp_ts_is_ts (const guint8 * data, gsize len)
{
  gsize off;

  if (data == NULL || len == 0 || len % MCP_TS_PACKET_SIZE != 0)
    return FALSE;
  for (off = 0; off < len; off += MCP_TS_PACKET_SIZE)
    if (data[off] != MCP_TS_SYNC_BYTE)
      return FALSE;
  return TRUE;
}

guint32
mcp_ts_crc32 (const guint8 * data, gsize len)
{
  guint32 crc = 0xFFFFFFFF;
  gsize i;
  guint bit;

  /* bitwise: sections are few and short */
  for (i = 0; i < len; i++) {
    crc ^= (guint32) data[i] << 24;
    for (bit = 0; bit < 8; bit++)
      crc = (crc & 0x80000000) ? (crc << 1) ^ 0x04C11DB7 : crc << 1;
  }
  return crc;
}

/* Returns FALSE for a packet to ignore: a transport error, a reserved
 * adaptation_field_control, an adaptation field beyond the packet. */
static gboolean
packet_parse (const guint8 * data, Packet * p)
{
  guint afc, pos = 4;

  memset (p, 0, sizeof (*p));
  p->data = data;
  if (data[1] & 0x80)
    return FALSE;
  p->pusi = (data[1] & 0x40) != 0;
  p->pid = ((data[1] & 0x1F) << 8) | data[2];
  p->scrambled = (data[3] & 0xC0) != 0;
  afc = (data[3] >> 4) & 3;
  p->cc = data[3] & 0x0F;
  if (afc == 0)
    return FALSE;
  if (afc & 2) {
    guint af_len = data[4];

    /* with a payload at most 182, without one 183 */
    if (af_len > MCP_TS_PACKET_SIZE - 5 - (afc & 1))
      return FALSE;
    if (af_len > 0)
      p->rai = (data[5] & 0x40) != 0;
    pos = 5 + af_len;
  }
  if ((afc & 1) && pos < MCP_TS_PACKET_SIZE) {
    p->payload = data + pos;
    p->payload_len = MCP_TS_PACKET_SIZE - pos;
  }
  return TRUE;
}

/* ---- PSI ------------------------------------------------------------- */

static void
section_reset (Section * s)
{
  s->cc = -1;
  s->len = 0;
  s->n_packets = 0;
}

static gboolean
section_add_packet (Section * s, const Packet * p)
{
  if (s->n_packets == MCP_TS_MAX_SECTION_PACKETS)
    return FALSE;
  memcpy (s->packets + s->n_packets * MCP_TS_PACKET_SIZE, p->data,
      MCP_TS_PACKET_SIZE);
  s->n_packets++;
  s->cc = p->cc;
  return TRUE;
}

/* The whole length of the section gathered so far, 0 while unknown. */
static guint
section_total (const Section * s)
{
  if (s->len < 3)
    return 0;
  return 3 + (((s->section[1] & 0x0F) << 8) | s->section[2]);
}

static gboolean
pid_usable (guint pid)
{
  return pid >= PID_FIRST_FREE && pid != PID_NULL;
}

static Codec
video_codec (guint8 stream_type)
{
  switch (stream_type) {
    case 0x01:
    case 0x02:
      return CODEC_MPEG2;
    case 0x10:
      return CODEC_MPEG4;
    case 0x1B:
    case 0x1F:
    case 0x20:
      return CODEC_H264;
    case 0x24:
      return CODEC_HEVC;
    case 0x42:
      return CODEC_AVS;
    case 0xEA:
      return CODEC_VC1;
    default:
      return CODEC_NONE;
  }
}

/* Stream types that carry sections, not PES: never a fallback. */
static gboolean
carries_sections (guint8 stream_type)
{
  switch (stream_type) {
    case 0x05:                 /* private sections */
    case 0x0A:                 /* DSM-CC */
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x13:                 /* DSM-CC synchronized download */
    case 0x14:
    case 0x16:                 /* metadata in sections */
    case 0x86:                 /* SCTE-35 splice information */
      return TRUE;
    default:
      return FALSE;
  }
}

static GBytes *
section_take_packets (Section * s)
{
  return g_bytes_new (s->packets, s->n_packets * MCP_TS_PACKET_SIZE);
}

static void
forget_pmt (McpTsTracker * t)
{
  g_clear_pointer (&t->pmt, g_bytes_unref);
  section_reset (&t->pmt_section);
  t->rap_pid = -1;
  t->rap_stream_type = 0;
  t->rap_codec = CODEC_NONE;
}

/* A complete PAT that passed the common checks. FALSE: malformed. */
static gboolean
pat_apply (McpTsTracker * t, const guint8 * sec, guint total)
{
  guint end = total - SECTION_CRC, pos;
  gint program = -1, pmt_pid = -1;

  if ((end - SECTION_HEADER) % 4 != 0)
    return FALSE;
  if (sec[6] != 0)              /* section_number: the program is in 0 */
    return TRUE;
  for (pos = SECTION_HEADER; pos < end; pos += 4) {
    guint number = mcp_get_u16 (sec + pos);
    guint pid = mcp_get_u16 (sec + pos + 2) & 0x1FFF;

    if (number != 0 && pid_usable (pid)) {
      program = number;
      pmt_pid = pid;
      break;
    }
  }
  g_clear_pointer (&t->pat, g_bytes_unref);
  t->pat = section_take_packets (&t->pat_section);
  t->stats.pats++;
  if (program != t->program_number || pmt_pid != t->pmt_pid) {
    forget_pmt (t);
    t->program_number = program;
    t->pmt_pid = pmt_pid;
  }
  return TRUE;
}

/* A complete PMT section that passed the common checks. FALSE: malformed. */
static gboolean
pmt_apply (McpTsTracker * t, const guint8 * sec, guint total)
{
  guint end = total - SECTION_CRC, pos;
  gint video_pid = -1, other_pid = -1;
  guint8 video_type = 0, other_type = 0;

  if (mcp_get_u16 (sec + 3) != t->program_number)
    return TRUE;                /* another program's, on the same PID */
  if (sec[6] != 0 || sec[7] != 0)
    return FALSE;               /* a PMT is always one section */
  if (end < SECTION_HEADER + 4)
    return FALSE;
  pos = SECTION_HEADER + 4 + (mcp_get_u16 (sec + 10) & 0x0FFF);
  if (pos > end)
    return FALSE;
  while (pos < end) {
    guint8 type;
    guint pid;

    if (pos + 5 > end)
      return FALSE;
    type = sec[pos];
    pid = mcp_get_u16 (sec + pos + 1) & 0x1FFF;
    pos += 5 + (mcp_get_u16 (sec + pos + 3) & 0x0FFF);
    if (pos > end)
      return FALSE;
    if (!pid_usable (pid) || (gint) pid == t->pmt_pid)
      continue;
    if (video_pid < 0 && video_codec (type) != CODEC_NONE) {
      video_pid = pid;
      video_type = type;
    } else if (other_pid < 0 && video_codec (type) == CODEC_NONE
        && !carries_sections (type)) {
      other_pid = pid;
      other_type = type;
    }
  }

  g_clear_pointer (&t->pmt, g_bytes_unref);
  t->pmt = section_take_packets (&t->pmt_section);
  t->stats.pmts++;
  if (video_pid >= 0) {
    t->rap_pid = video_pid;
    t->rap_stream_type = video_type;
  } else {
    t->rap_pid = other_pid;
    t->rap_stream_type = other_type;
  }
  t->rap_codec = video_codec (t->rap_stream_type);
  return TRUE;
}

/* A section of s is complete: checks it and takes it in. */
static void
section_done (McpTsTracker * t, Section * s, gboolean is_pat)
{
  const guint8 *sec = s->section;
  guint total = s->len;
  gboolean ok;

  if (!(sec[1] & 0x80) || total < SECTION_HEADER + SECTION_CRC
      || mcp_ts_crc32 (sec, total) != 0) {
    ok = FALSE;
  } else if (!(sec[5] & 0x01)) {
    ok = TRUE;                  /* not applicable yet */
  } else if (is_pat) {
    ok = sec[0] != TABLE_PAT || pat_apply (t, sec, total);
  } else {
    ok = sec[0] != TABLE_PMT || pmt_apply (t, sec, total);
  }
  if (!ok)
    t->stats.bad_sections++;
}

/* Appends the bytes of data that belong to the section being gathered.
 * Returns how many it took; sets *complete when the section is whole, or
 * -1 on a section that cannot be (too long). */
static guint
section_append (Section * s, const guint8 * data, guint len, gint * complete)
{
  guint taken = 0, want, n;

  *complete = 0;
  if (s->len < 3) {
    n = MIN (len, 3 - s->len);
    memcpy (s->section + s->len, data, n);
    s->len += n;
    taken = n;
    if (s->len < 3)
      return taken;
  }
  want = section_total (s);
  if (want > MAX_SECTION) {
    *complete = -1;
    return taken;
  }
  n = MIN (len - taken, want - s->len);
  memcpy (s->section + s->len, data + taken, n);
  s->len += n;
  taken += n;
  if (s->len == want)
    *complete = 1;
  return taken;
}

/* Feeds data (of packet p) to the section being gathered; returns how
 * much it took. The section is reset when it completed or failed. */
static guint
section_feed (McpTsTracker * t, Section * s, gboolean is_pat,
    const guint8 * data, guint len)
{
  gint complete;
  guint taken = section_append (s, data, len, &complete);

  if (complete > 0) {
    section_done (t, s, is_pat);
  } else if (complete < 0) {
    /* nothing after it in this packet can be parsed */
    t->stats.bad_sections++;
    taken = len;
  }
  if (complete != 0)
    section_reset (s);
  return taken;
}

static void
psi_packet (McpTsTracker * t, Section * s, gboolean is_pat, const Packet * p)
{
  const guint8 *data = p->payload;
  guint len = p->payload_len, pointer, pos;
  gboolean follows;

  if (data == NULL)
    return;
  follows = s->cc >= 0 && p->cc == ((guint) s->cc + 1) % 16;
  if (s->cc >= 0 && p->cc == (guint) s->cc)
    return;                     /* a duplicate packet */
  if (!p->pusi) {
    if (s->cc < 0)
      return;                   /* the middle of a section we missed */
    if (!follows || !section_add_packet (s, p)) {
      t->stats.bad_sections++;
      section_reset (s);
      return;
    }
    section_feed (t, s, is_pat, data, len);
    return;
  }

  pointer = data[0];
  if (1 + pointer > len) {
    t->stats.bad_sections++;
    section_reset (s);
    return;
  }
  /* the end of the section before, if we have its beginning */
  if (s->cc >= 0) {
    if (!follows || !section_add_packet (s, p)) {
      t->stats.bad_sections++;
    } else if (section_feed (t, s, is_pat, data + 1, pointer) == pointer
        && s->cc >= 0) {
      /* still not complete where the new one starts */
      t->stats.bad_sections++;
    }
    section_reset (s);
  }
  pos = 1 + pointer;
  /* the sections that start here; 0xFF: stuffing to the end */
  while (pos < len && data[pos] != 0xFF) {
    section_reset (s);
    section_add_packet (s, p);
    pos += section_feed (t, s, is_pat, data + pos, len - pos);
    if (s->cc >= 0)
      break;                    /* continues in the next packet */
  }
}

/* ---- random-access points -------------------------------------------- */

/* Whether stream_id has the optional PES header (flags, header data). */
static gboolean
pes_has_header (guint8 stream_id)
{
  switch (stream_id) {
    case 0xBC:                 /* program_stream_map */
    case 0xBE:                 /* padding_stream */
    case 0xBF:                 /* private_stream_2 */
    case 0xF0:                 /* ECM */
    case 0xF1:                 /* EMM */
    case 0xF2:                 /* DSMCC_stream */
    case 0xF8:                 /* ITU-T H.222.1 type E */
    case 0xFF:                 /* program_stream_directory */
      return FALSE;
    default:
      return TRUE;
  }
}

/* The elementary stream bytes of the PES packet starting in payload. */
static gboolean
pes_es_data (const guint8 * payload, guint len, const guint8 ** es,
    guint * es_len)
{
  guint start;

  if (len < 6 || payload[0] != 0 || payload[1] != 0 || payload[2] != 1)
    return FALSE;
  if (!pes_has_header (payload[3])) {
    start = 6;
  } else {
    if (len < 9 || (payload[6] & 0xC0) != 0x80)
      return FALSE;
    start = 9 + payload[8];
    if (start > len)
      return FALSE;
  }
  *es = payload + start;
  *es_len = len - start;
  return TRUE;
}

typedef enum
{
  UNIT_KEY,                     /* starts a key frame */
  UNIT_PICTURE,                 /* another picture: not a key frame */
  UNIT_OTHER,                   /* look further */
} Unit;

/* What the unit of codec after a start code 00 00 01 is; next points at
 * the byte after the start code, avail bytes from there (at least 1). */
static Unit
classify_unit (Codec codec, const guint8 * next, guint avail)
{
  guint8 code = next[0], type;

  switch (codec) {
    case CODEC_H264:
      type = code & 0x1F;
      if (type == 5 || type == 7)
        return UNIT_KEY;
      return type == 1 ? UNIT_PICTURE : UNIT_OTHER;
    case CODEC_HEVC:
      type = (code >> 1) & 0x3F;
      if ((type >= 16 && type <= 21) || type == 32)
        return UNIT_KEY;
      return type <= 9 ? UNIT_PICTURE : UNIT_OTHER;
    case CODEC_MPEG2:
      if (code == 0xB3)
        return UNIT_KEY;
      return code == 0x00 ? UNIT_PICTURE : UNIT_OTHER;
    case CODEC_MPEG4:
      if (code <= 0x2F || code == 0xB0 || code == 0xB3)
        return UNIT_KEY;
      if (code == 0xB6) {
        /* vop_coding_type 0: an I-VOP */
        if (avail < 2)
          return UNIT_PICTURE;
        return (next[1] >> 6) == 0 ? UNIT_KEY : UNIT_PICTURE;
      }
      return UNIT_OTHER;
    case CODEC_AVS:
      if (code == 0xB0 || code == 0xB3)
        return UNIT_KEY;
      return code == 0xB6 ? UNIT_PICTURE : UNIT_OTHER;
    case CODEC_VC1:
      if (code == 0x0F || code == 0x0E)
        return UNIT_KEY;
      return code == 0x0D ? UNIT_PICTURE : UNIT_OTHER;
    case CODEC_NONE:
    default:
      return UNIT_OTHER;
  }
}

/* Whether es (the start of a PES payload) starts a key frame. */
static gboolean
starts_key_frame (Codec codec, const guint8 * es, guint len)
{
  guint i;

  for (i = 0; i + 3 < len; i++) {
    Unit u;

    if (es[i] != 0 || es[i + 1] != 0 || es[i + 2] != 1)
      continue;
    u = classify_unit (codec, es + i + 3, len - i - 3);
    if (u != UNIT_OTHER)
      return u == UNIT_KEY;
    i += 2;
  }
  return FALSE;
}

static gboolean
is_rap (McpTsTracker * t, const Packet * p)
{
  const guint8 *es;
  guint es_len;

  if (t->pat == NULL || t->pmt == NULL || t->rap_pid < 0
      || (gint) p->pid != t->rap_pid || !p->pusi || p->payload == NULL)
    return FALSE;
  if (p->rai || t->rap_codec == CODEC_NONE)
    return TRUE;
  if (p->scrambled || !pes_es_data (p->payload, p->payload_len, &es, &es_len))
    return FALSE;
  return starts_key_frame (t->rap_codec, es, es_len);
}

/* ---- the tracker ----------------------------------------------------- */

McpTsTracker *
mcp_ts_tracker_new (void)
{
  McpTsTracker *t = g_new0 (McpTsTracker, 1);

  mcp_ts_tracker_reset (t);
  return t;
}

void
mcp_ts_tracker_free (McpTsTracker * t)
{
  if (t == NULL)
    return;
  g_clear_pointer (&t->pat, g_bytes_unref);
  g_clear_pointer (&t->pmt, g_bytes_unref);
  g_free (t);
}

void
mcp_ts_tracker_reset (McpTsTracker * t)
{
  g_clear_pointer (&t->pat, g_bytes_unref);
  forget_pmt (t);
  section_reset (&t->pat_section);
  t->program_number = -1;
  t->pmt_pid = -1;
  memset (&t->stats, 0, sizeof (t->stats));
}

gssize
mcp_ts_tracker_feed (McpTsTracker * t, const guint8 * data, gsize len)
{
  gssize first = -1;
  gsize off;

  if (!mcp_ts_is_ts (data, len)) {
    t->stats.not_ts++;
    return -1;
  }
  for (off = 0; off < len; off += MCP_TS_PACKET_SIZE) {
    Packet p;

    t->stats.packets++;
    if (!packet_parse (data + off, &p))
      continue;
    if (p.pid == PID_PAT) {
      psi_packet (t, &t->pat_section, TRUE, &p);
    } else if ((gint) p.pid == t->pmt_pid) {
      psi_packet (t, &t->pmt_section, FALSE, &p);
    } else if (is_rap (t, &p)) {
      t->stats.raps++;
      if (first < 0)
        first = off;
    }
  }
  return first;
}

GBytes *
mcp_ts_tracker_get_psi (McpTsTracker * t)
{
  gsize pat_len, pmt_len;
  guint8 *buf;

  if (t->pat == NULL || t->pmt == NULL)
    return NULL;
  pat_len = g_bytes_get_size (t->pat);
  pmt_len = g_bytes_get_size (t->pmt);
  buf = g_malloc (pat_len + pmt_len);
  memcpy (buf, g_bytes_get_data (t->pat, NULL), pat_len);
  memcpy (buf + pat_len, g_bytes_get_data (t->pmt, NULL), pmt_len);
  return g_bytes_new_take (buf, pat_len + pmt_len);
}

gint
mcp_ts_tracker_get_pmt_pid (McpTsTracker * t)
{
  return t->pmt_pid;
}

gint
mcp_ts_tracker_get_program_number (McpTsTracker * t)
{
  return t->program_number;
}

gint
mcp_ts_tracker_get_rap_pid (McpTsTracker * t, guint8 * stream_type)
{
  if (stream_type)
    *stream_type = t->rap_pid >= 0 ? t->rap_stream_type : 0;
  return t->rap_pid;
}

gboolean
mcp_ts_tracker_rap_is_video (McpTsTracker * t)
{
  return t->rap_pid >= 0 && t->rap_codec != CODEC_NONE;
}

void
mcp_ts_tracker_get_stats (McpTsTracker * t, McpTsStats * stats)
{
  *stats = t->stats;
}
