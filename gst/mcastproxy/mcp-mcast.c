/* mcastproxy — multicast socket set-up and batched datagram I/O (Linux). */
#include "config.h"

#include "mcp-mcast.h"
#include "mcp-address.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL 49
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif

static gchar *
ifname (guint ifindex)
{
  gchar name[IF_NAMESIZE] = { 0 };

  if (ifindex == 0)
    return g_strdup ("the default interface");
  if (!if_indextoname (ifindex, name))
    return g_strdup_printf ("interface #%u", ifindex);
  return g_strdup (name);
}

static gboolean
set_int_opt (GSocket * socket, gint level, gint name, gint value,
    const gchar * what, GError ** error)
{
  GError *err = NULL;

  if (!g_socket_set_option (socket, level, name, value, &err)) {
    g_set_error (error, G_IO_ERROR, err->code, "cannot set %s: %s", what,
        err->message);
    g_error_free (err);
    return FALSE;
  }
  return TRUE;
}

static void
fill_sockaddr (struct sockaddr_storage *ss, GInetAddress * addr)
{
  GSocketAddress *sa = g_inet_socket_address_new (addr, 0);

  memset (ss, 0, sizeof (*ss));
  g_socket_address_to_native (sa, ss, sizeof (*ss), NULL);
  g_object_unref (sa);
}

/* Joins or leaves (join FALSE) group on ifindex, any-source or from one
 * source. */
static gboolean
membership (GSocket * socket, gboolean join, GInetAddress * group,
    guint ifindex, GInetAddress * source, GError ** error)
{
  gint fd = g_socket_get_fd (socket);
  gint level = g_inet_address_get_family (group) == G_SOCKET_FAMILY_IPV6 ?
      IPPROTO_IPV6 : IPPROTO_IP;
  gint r;

  if (source) {
    struct group_source_req req;

    memset (&req, 0, sizeof (req));
    req.gsr_interface = ifindex;
    fill_sockaddr (&req.gsr_group, group);
    fill_sockaddr (&req.gsr_source, source);
    r = setsockopt (fd, level, join ? MCAST_JOIN_SOURCE_GROUP :
        MCAST_LEAVE_SOURCE_GROUP, &req, sizeof (req));
  } else {
    struct group_req req;

    memset (&req, 0, sizeof (req));
    req.gr_interface = ifindex;
    fill_sockaddr (&req.gr_group, group);
    r = setsockopt (fd, level, join ? MCAST_JOIN_GROUP : MCAST_LEAVE_GROUP,
        &req, sizeof (req));
  }

  if (r < 0) {
    gint err = errno;
    gchar *g = g_inet_address_to_string (group);
    gchar *s = source ? g_inet_address_to_string (source) : NULL;
    gchar *i = ifname (ifindex);

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "cannot %s %s%s%s on %s: %s", join ? "join" : "leave", g,
        s ? " from source " : "", s ? s : "", i, g_strerror (err));
    g_free (g);
    g_free (s);
    g_free (i);
    return FALSE;
  }
  return TRUE;
}

gboolean
mcp_mcast_join (GSocket * socket, GInetAddress * group, guint ifindex,
    GInetAddress * source, GError ** error)
{
  return membership (socket, TRUE, group, ifindex, source, error);
}

gboolean
mcp_mcast_leave (GSocket * socket, GInetAddress * group, guint ifindex,
    GInetAddress * source, GError ** error)
{
  return membership (socket, FALSE, group, ifindex, source, error);
}

static void
set_multicast_all (GSocket * socket, GSocketFamily family, gboolean all)
{
  if (family == G_SOCKET_FAMILY_IPV4)
    g_socket_set_option (socket, IPPROTO_IP, IP_MULTICAST_ALL, all, NULL);
  else
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_MULTICAST_ALL, all, NULL);
}

gboolean
mcp_mcast_rejoin (GSocket * socket, GInetAddress * group, guint ifindex,
    GPtrArray * sources, GError ** error)
{
  GSocketFamily family = g_inet_address_get_family (group);
  guint n_src = sources ? sources->len : 0;
  gboolean ok = TRUE;
  guint j;

  /* Between leave and join this socket has no membership of its own; bound
   * to the group, it may still take the group in meanwhile, from wherever
   * the host does. Source-specific sockets must not: any source would do. */
  if (n_src == 0)
    set_multicast_all (socket, family, TRUE);
  for (j = 0; j < MAX (n_src, 1) && ok; j++) {
    GInetAddress *src = n_src ? g_ptr_array_index (sources, j) : NULL;
    GError *err = NULL;

    /* not a member any more (its interface went away): join all the same */
    if (!membership (socket, FALSE, group, ifindex, src, &err))
      g_clear_error (&err);
    ok = membership (socket, TRUE, group, ifindex, src, error);
  }
  if (n_src == 0)
    set_multicast_all (socket, family, FALSE);
  return ok;
}

gint
mcp_socket_set_buffer_size (GSocket * socket, gboolean receive, gint size)
{
  gint opt = receive ? SO_RCVBUF : SO_SNDBUF;
  gint force = receive ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
  gint fd = g_socket_get_fd (socket);
  gint got = 0;
  socklen_t len = sizeof (got);

  setsockopt (fd, SOL_SOCKET, opt, &size, sizeof (size));
  if (getsockopt (fd, SOL_SOCKET, opt, &got, &len) < 0)
    return -1;
  /* Linux reports twice what was asked, for its bookkeeping. */
  if (got / 2 < size) {
    /* Allowed with CAP_NET_ADMIN; harmless to try otherwise. */
    if (setsockopt (fd, SOL_SOCKET, force, &size, sizeof (size)) == 0) {
      len = sizeof (got);
      getsockopt (fd, SOL_SOCKET, opt, &got, &len);
    }
  }
  return got / 2;
}

gboolean
mcp_socket_set_dscp (GSocket * socket, gint dscp, GError ** error)
{
  gint fd = g_socket_get_fd (socket);
  gint tos = dscp << 2;
  gint r;

  g_return_val_if_fail (dscp >= 0 && dscp <= 63, FALSE);
  if (g_socket_get_family (socket) == G_SOCKET_FAMILY_IPV6) {
    r = setsockopt (fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof (tos));
    /* a dual-stack socket also carries IPv4, marked by IP_TOS */
    if (r == 0)
      setsockopt (fd, IPPROTO_IP, IP_TOS, &tos, sizeof (tos));
  } else {
    r = setsockopt (fd, IPPROTO_IP, IP_TOS, &tos, sizeof (tos));
  }
  if (r < 0) {
    gint err = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "cannot set DSCP %d: %s", dscp, g_strerror (err));
    return FALSE;
  }
  return TRUE;
}

guint16
mcp_socket_get_local_port (GSocket * socket)
{
  GSocketAddress *addr = g_socket_get_local_address (socket, NULL);
  guint16 port = 0;

  if (addr) {
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr));
    g_object_unref (addr);
  }
  return port;
}

GSocket *
mcp_mcast_open_receiver (const McpMcastReceiverConfig * cfg,
    gint * buffer_size_out, GError ** error)
{
  GSocketFamily family = g_inet_address_get_family (cfg->group);
  GSocket *socket;
  GSocketAddress *bind_addr;
  gboolean ok;

  socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, error);
  if (!socket)
    return NULL;
  g_socket_set_blocking (socket, FALSE);

  /* Binding to the group address makes the kernel deliver only that group's
   * datagrams, not everything arriving on the port. */
  bind_addr = g_inet_socket_address_new (cfg->group, cfg->port);
  ok = g_socket_bind (socket, bind_addr, TRUE, error);
  g_object_unref (bind_addr);
  if (!ok)
    goto fail;

  /* By default Linux also delivers groups that other sockets joined. */
  if (family == G_SOCKET_FAMILY_IPV4) {
    if (!set_int_opt (socket, IPPROTO_IP, IP_MULTICAST_ALL, 0,
            "IP_MULTICAST_ALL", error))
      goto fail;
  } else {
    /* Older kernels lack it; the bind above still filters. */
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0, NULL);
  }

  if (cfg->buffer_size > 0) {
    gint got = mcp_socket_set_buffer_size (socket, TRUE, cfg->buffer_size);

    if (buffer_size_out)
      *buffer_size_out = got;
  } else if (buffer_size_out) {
    gint got = 0;

    g_socket_get_option (socket, SOL_SOCKET, SO_RCVBUF, &got, NULL);
    *buffer_size_out = got / 2;
  }
  return socket;

fail:
  g_object_unref (socket);
  return NULL;
}

GSocket *
mcp_mcast_open_sender (const McpMcastSenderConfig * cfg, GError ** error)
{
  GSocketFamily family = g_inet_address_get_family (cfg->group);
  GSocket *socket;
  GSocketAddress *bind_addr;
  GInetAddress *any = NULL;
  gboolean ok;

  /* the kernel routes a multicast datagram from a foreign address only
   * through an interface given */
  if (cfg->any_source && cfg->ifindex == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "sending from the original senders' addresses needs the interface "
        "named (multicast-iface)");
    return NULL;
  }
  if (cfg->bind_address
      && g_inet_address_get_family (cfg->bind_address) != family) {
    g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_FAMILY,
        "bind address and group are of different address families");
    return NULL;
  }

  socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, error);
  if (!socket)
    return NULL;
  g_socket_set_blocking (socket, FALSE);

  if (!cfg->bind_address)
    any = g_inet_address_new_any (family);
  bind_addr = g_inet_socket_address_new (cfg->bind_address ?
      cfg->bind_address : any, cfg->bind_port);
  ok = g_socket_bind (socket, bind_addr, TRUE, error);
  g_object_unref (bind_addr);
  g_clear_object (&any);
  if (!ok)
    goto fail;

  if (family == G_SOCKET_FAMILY_IPV4) {
    struct ip_mreqn mreq;

    memset (&mreq, 0, sizeof (mreq));
    mreq.imr_ifindex = cfg->ifindex;
    if (setsockopt (g_socket_get_fd (socket), IPPROTO_IP, IP_MULTICAST_IF,
            &mreq, sizeof (mreq)) < 0) {
      gint err = errno;
      gchar *i = ifname (cfg->ifindex);

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
          "cannot send multicast on %s: %s", i, g_strerror (err));
      g_free (i);
      goto fail;
    }
    if (!set_int_opt (socket, IPPROTO_IP, IP_MULTICAST_TTL, cfg->ttl,
            "the multicast TTL", error)
        || !set_int_opt (socket, IPPROTO_IP, IP_MULTICAST_LOOP, cfg->loop,
            "multicast loopback", error))
      goto fail;
  } else {
    if (!set_int_opt (socket, IPPROTO_IPV6, IPV6_MULTICAST_IF, cfg->ifindex,
            "the multicast interface", error)
        || !set_int_opt (socket, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, cfg->ttl,
            "the multicast hop limit", error)
        || !set_int_opt (socket, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, cfg->loop,
            "multicast loopback", error))
      goto fail;
  }

  if (cfg->any_source) {
    gboolean v6 = family == G_SOCKET_FAMILY_IPV6;
    gint one = 1;

    if (setsockopt (g_socket_get_fd (socket), v6 ? IPPROTO_IPV6 : IPPROTO_IP,
            v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT, &one, sizeof (one)) < 0) {
      gint err = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
          "cannot send from the original senders' addresses (%s): %s%s",
          v6 ? "IPV6_TRANSPARENT" : "IP_TRANSPARENT", g_strerror (err),
          err == EPERM ? " (needs CAP_NET_RAW or CAP_NET_ADMIN)" : "");
      goto fail;
    }
  }
  if (cfg->buffer_size > 0)
    mcp_socket_set_buffer_size (socket, FALSE, cfg->buffer_size);
  if (cfg->dscp >= 0 && !mcp_socket_set_dscp (socket, cfg->dscp, error))
    goto fail;
  return socket;

fail:
  g_object_unref (socket);
  return NULL;
}

gint
mcp_udp_receive_batch (GSocket * socket, McpDatagram * dgrams, guint n,
    GError ** error)
{
  struct mmsghdr msgs[n];
  struct iovec iov[n];
  guint i;
  gint r;

  for (i = 0; i < n; i++) {
    iov[i].iov_base = dgrams[i].data;
    iov[i].iov_len = dgrams[i].capacity;
    memset (&msgs[i], 0, sizeof (msgs[i]));
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &dgrams[i].from;
    msgs[i].msg_hdr.msg_namelen = sizeof (dgrams[i].from);
  }

  do {
    r = recvmmsg (g_socket_get_fd (socket), msgs, n, MSG_DONTWAIT, NULL);
  } while (r < 0 && errno == EINTR);

  if (r < 0) {
    gint err = errno;

    if (err == EAGAIN || err == EWOULDBLOCK)
      return 0;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "receiving datagrams failed: %s", g_strerror (err));
    return -1;
  }

  for (i = 0; i < (guint) r; i++) {
    dgrams[i].len = MIN (msgs[i].msg_len, dgrams[i].capacity);
    dgrams[i].truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    dgrams[i].from_len = msgs[i].msg_hdr.msg_namelen;
  }
  return r;
}

/* ---- sending from another address -------------------------------------- */

#define MCP_TYPE_SOURCE_MESSAGE (mcp_source_message_get_type ())
G_DECLARE_FINAL_TYPE (McpSourceMessage, mcp_source_message, MCP,
    SOURCE_MESSAGE, GSocketControlMessage);

struct _McpSourceMessage
{
  GSocketControlMessage parent;
  guint8 family;
  guint8 source[16];
};

G_DEFINE_TYPE (McpSourceMessage, mcp_source_message,
    G_TYPE_SOCKET_CONTROL_MESSAGE);

static gsize
source_message_get_size (GSocketControlMessage * message)
{
  McpSourceMessage *self = MCP_SOURCE_MESSAGE (message);

  return self->family == 6 ? sizeof (struct in6_pktinfo) :
      sizeof (struct in_pktinfo);
}

static int
source_message_get_level (GSocketControlMessage * message)
{
  return MCP_SOURCE_MESSAGE (message)->family == 6 ? IPPROTO_IPV6 : IPPROTO_IP;
}

static int
source_message_get_msg_type (GSocketControlMessage * message)
{
  return MCP_SOURCE_MESSAGE (message)->family == 6 ? IPV6_PKTINFO : IP_PKTINFO;
}

/* The interface stays the socket's multicast interface (index 0). */
static void
source_message_serialize (GSocketControlMessage * message, gpointer data)
{
  McpSourceMessage *self = MCP_SOURCE_MESSAGE (message);

  if (self->family == 6) {
    struct in6_pktinfo info;

    memset (&info, 0, sizeof (info));
    memcpy (&info.ipi6_addr, self->source, 16);
    memcpy (data, &info, sizeof (info));
  } else {
    struct in_pktinfo info;

    memset (&info, 0, sizeof (info));
    memcpy (&info.ipi_spec_dst, self->source, 4);
    memcpy (data, &info, sizeof (info));
  }
}

/* Only for sending: what comes in is left to other classes. */
static GSocketControlMessage *
source_message_deserialize (int level, int type, gsize size, gpointer data)
{
  return NULL;
}

static void
mcp_source_message_class_init (McpSourceMessageClass * klass)
{
  GSocketControlMessageClass *cm_class = G_SOCKET_CONTROL_MESSAGE_CLASS (klass);

  cm_class->get_size = source_message_get_size;
  cm_class->get_level = source_message_get_level;
  cm_class->get_type = source_message_get_msg_type;
  cm_class->serialize = source_message_serialize;
  cm_class->deserialize = source_message_deserialize;
}

static void
mcp_source_message_init (McpSourceMessage * self)
{
}

GSocketControlMessage *
mcp_source_message_new (guint8 family, const guint8 * source)
{
  McpSourceMessage *self = g_object_new (MCP_TYPE_SOURCE_MESSAGE, NULL);

  self->family = family == 6 ? 6 : 4;
  memcpy (self->source, source, self->family == 6 ? 16 : 4);
  return G_SOCKET_CONTROL_MESSAGE (self);
}

gboolean
mcp_udp_send_batch (GSocket * socket, GOutputMessage * msgs, guint n,
    GCancellable * cancellable, guint * sent, guint64 * bytes,
    guint * refused, gchar ** first_error)
{
  guint done = 0, i;

  *sent = *refused = 0;
  if (bytes)
    *bytes = 0;
  while (done < n) {
    GError *err = NULL;
    gint r = g_socket_send_messages (socket, msgs + done, n - done, 0,
        NULL, &err);

    if (r >= 0) {
      if (bytes)
        for (i = done; i < done + (guint) r; i++)
          *bytes += msgs[i].bytes_sent;
      *sent += r;
      done += r;
      continue;
    }
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_clear_error (&err);
      if (g_socket_condition_wait (socket, G_IO_OUT, cancellable, &err))
        continue;
    }
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_error_free (err);
      return FALSE;
    }
    /* this one is lost: the next ones may still go */
    (*refused)++;
    if (first_error && !*first_error)
      *first_error = g_strdup (err->message);
    g_error_free (err);
    done++;
  }
  return TRUE;
}
