/* mcastproxy — multicast socket set-up and batched datagram I/O (Linux). */
#ifndef __MCP_MCAST_H__
#define __MCP_MCAST_H__

#include <gio/gio.h>
#include <sys/socket.h>

G_BEGIN_DECLS

typedef struct
{
  GInetAddress *group;
  guint16 port;                 /* 0: an ephemeral port */
  gint buffer_size;             /* SO_RCVBUF bytes; 0: the kernel default */
} McpMcastReceiverConfig;

typedef struct
{
  GInetAddress *group;          /* selects the address family */
  guint ifindex;                /* 0: the default interface */
  gint ttl;
  gboolean loop;
  GInetAddress *bind_address;   /* NULL: any */
  guint16 bind_port;
  gint buffer_size;             /* SO_SNDBUF bytes; 0: the kernel default */
  gint dscp;                    /* 0-63; -1: the system's default marking */
  gboolean any_source;          /* may send from addresses not its own
                                 * (IP_TRANSPARENT: CAP_NET_RAW or
                                 * CAP_NET_ADMIN), with a source message;
                                 * needs ifindex */
} McpMcastSenderConfig;

/* Binds to the group (so other groups on the same port stay out) and turns
 * off delivery of groups joined by other sockets; joining is up to the
 * caller (McpMembership). *buffer_size_out gets the receive buffer the
 * kernel granted. */
GSocket *mcp_mcast_open_receiver (const McpMcastReceiverConfig * cfg,
    gint * buffer_size_out, GError ** error);

/* Joins, or leaves, group on ifindex (0: the interface the kernel routes
 * the group over), from source only (SSM) when source is not NULL. */
gboolean mcp_mcast_join (GSocket * socket, GInetAddress * group,
    guint ifindex, GInetAddress * source, GError ** error);
gboolean mcp_mcast_leave (GSocket * socket, GInetAddress * group,
    guint ifindex, GInetAddress * source, GError ** error);

/* Leaves and at once joins again group on ifindex, for each source (or
 * any-source when sources is NULL or empty), so that the host announces
 * the membership anew (IGMP/MLD) when it was its only one. A leave that
 * finds no membership (the interface was gone) is not an error. What is
 * queued on the socket stays. While an any-source socket has left, it
 * takes what the host still accepts for the group; the host itself stops
 * accepting the group for those microseconds unless another socket is a
 * member on that interface. */
gboolean mcp_mcast_rejoin (GSocket * socket, GInetAddress * group,
    guint ifindex, GPtrArray * sources, GError ** error);

GSocket *mcp_mcast_open_sender (const McpMcastSenderConfig * cfg,
    GError ** error);

/* A control message that makes a datagram leave from source (family 4: its
 * first 4 bytes; 6: 16 bytes) instead of the socket's own address
 * (IP_PKTINFO, IPV6_PKTINFO), on a socket opened with any_source. The port
 * stays the socket's. */
GSocketControlMessage *mcp_source_message_new (guint8 family,
    const guint8 * source);

/* Sets SO_RCVBUF or SO_SNDBUF, using the privileged variant when the normal
 * one is capped; returns what the kernel granted (bytes), or -1. */
gint mcp_socket_set_buffer_size (GSocket * socket, gboolean receive, gint size);

/* Marks what the socket sends with DSCP dscp (0-63: IP_TOS, IPV6_TCLASS;
 * both on an IPv6 socket, which may carry IPv4 too). */
gboolean mcp_socket_set_dscp (GSocket * socket, gint dscp, GError ** error);

guint16 mcp_socket_get_local_port (GSocket * socket);

typedef struct
{
  guint8 *data;
  gsize capacity;
  gsize len;                    /* bytes received */
  gboolean truncated;           /* the datagram was larger than capacity */
  struct sockaddr_storage from;
  socklen_t from_len;
} McpDatagram;

/* Receives up to n datagrams without blocking (recvmmsg). Returns how many,
 * 0 when none is waiting, -1 on error. */
gint mcp_udp_receive_batch (GSocket * socket, McpDatagram * dgrams, guint n,
    GError ** error);

/* Sends the n messages on socket in as few calls (sendmmsg) as the kernel
 * takes them, waiting while its buffer is full (cancellable). A message
 * the kernel refuses (e.g. no route while a link is down) is lost and the
 * others go on: counted in *refused, and the first refusal's reason put in
 * *first_error when that is not NULL and still NULL (to be freed). *sent
 * and *bytes (optional) count what was handed over. FALSE when cancelled:
 * the messages after the first *sent + *refused were not tried. */
gboolean mcp_udp_send_batch (GSocket * socket, GOutputMessage * msgs,
    guint n, GCancellable * cancellable, guint * sent, guint64 * bytes,
    guint * refused, gchar ** first_error);

G_END_DECLS

#endif /* __MCP_MCAST_H__ */
