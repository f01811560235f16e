/* mcastproxy — big-endian (network order) integers in byte buffers, as
 * every wire format here writes them. */
#ifndef __MCP_BYTES_H__
#define __MCP_BYTES_H__

#include <glib.h>

static inline guint16
mcp_get_u16 (const guint8 * p)
{
  return (p[0] << 8) | p[1];
}

static inline guint32
mcp_get_u32 (const guint8 * p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) |
      ((guint32) p[2] << 8) | p[3];
}

static inline guint64
mcp_get_u64 (const guint8 * p)
{
  return ((guint64) mcp_get_u32 (p) << 32) | mcp_get_u32 (p + 4);
}

static inline void
mcp_put_u16 (guint8 * p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

static inline void
mcp_put_u32 (guint8 * p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

static inline void
mcp_put_u64 (guint8 * p, guint64 v)
{
  mcp_put_u32 (p, v >> 32);
  mcp_put_u32 (p + 4, v);
}

#endif /* __MCP_BYTES_H__ */
