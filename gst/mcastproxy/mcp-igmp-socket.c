/* mcastproxy — raw IGMP and MLD sockets for one interface. */
#include "config.h"

#include "mcp-igmp-socket.h"
#include "mcp-address.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (mcp-igmp-socket-error-quark, mcp_igmp_socket_error);
/* *INDENT-ON* */

#define MLD_QUERY 130
#define MLD_V1_REPORT 131
#define MLD_V1_DONE 132
#define MLD_V2_REPORT 143

struct _McpIgmpSocket
{
  GSocketFamily family;
  gchar *ifname;
  guint ifindex;
  GSocket *socket;
  GInetAddress *address;        /* ours, for the election; may be NULL */
  GPtrArray *own;               /* GInetAddress: all of ours on ifname */
  guint8 buf[MCP_IGMP_MAX_MESSAGE];
};

/* Every address of ifname of the family; IPv6: only link-local ones,
 * which are what MLD is sent from. */
static GPtrArray *
interface_addresses (const gchar * ifname, GSocketFamily family)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  struct ifaddrs *ifa, *i;

  if (getifaddrs (&ifa) != 0)
    return out;
  for (i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr || strcmp (i->ifa_name, ifname) != 0)
      continue;
    if (family == G_SOCKET_FAMILY_IPV4 && i->ifa_addr->sa_family == AF_INET) {
      struct sockaddr_in *sin = (struct sockaddr_in *) i->ifa_addr;
      g_ptr_array_add (out, g_inet_address_new_from_bytes ((const guint8 *)
              &sin->sin_addr, G_SOCKET_FAMILY_IPV4));
    } else if (family == G_SOCKET_FAMILY_IPV6
        && i->ifa_addr->sa_family == AF_INET6) {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) i->ifa_addr;
      if (IN6_IS_ADDR_LINKLOCAL (&sin6->sin6_addr))
        g_ptr_array_add (out, g_inet_address_new_from_bytes ((const guint8 *)
                &sin6->sin6_addr, G_SOCKET_FAMILY_IPV6));
    }
  }
  freeifaddrs (ifa);
  return out;
}

static gboolean
set_opt (int fd, int level, int name, const void *val, socklen_t len,
    const gchar * what, const gchar * ifname, GError ** error)
{
  int err;

  if (setsockopt (fd, level, name, val, len) == 0)
    return TRUE;
  err = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
      "cannot set %s on the IGMP/MLD socket of %s: %s", what, ifname,
      g_strerror (err));
  return FALSE;
}

static gboolean
setup_ipv4 (int fd, McpIgmpSocket * sock, GError ** error)
{
  struct ip_mreqn mreq = { 0 };
  /* Router Alert (RFC 2113): type 148, length 4, value 0 */
  static const guint8 router_alert[4] = { 0x94, 0x04, 0x00, 0x00 };
  int one = 1, zero = 0;

  struct ip_mreqn routers = { 0 };

  mreq.imr_multiaddr.s_addr = htonl (0xe0000016);       /* 224.0.0.22 */
  mreq.imr_ifindex = sock->ifindex;
  /* all routers: where IGMPv2 leaves go */
  routers.imr_multiaddr.s_addr = htonl (0xe0000002);
  routers.imr_ifindex = sock->ifindex;
  return set_opt (fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one,
      "IP_PKTINFO", sock->ifname, error)
      && set_opt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq,
      "IP_ADD_MEMBERSHIP 224.0.0.22", sock->ifname, error)
      && set_opt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &routers,
      sizeof routers, "IP_ADD_MEMBERSHIP 224.0.0.2", sock->ifname, error)
      /* explicit: the v1/v2 reports to groups we did not join */
      && set_opt (fd, IPPROTO_IP, IP_MULTICAST_ALL, &one, sizeof one,
      "IP_MULTICAST_ALL", sock->ifname, error)
      && set_opt (fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq,
      "IP_MULTICAST_IF", sock->ifname, error)
      && set_opt (fd, IPPROTO_IP, IP_MULTICAST_TTL, &one, sizeof one,
      "IP_MULTICAST_TTL", sock->ifname, error)
      && set_opt (fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero,
      "IP_MULTICAST_LOOP", sock->ifname, error)
      && set_opt (fd, IPPROTO_IP, IP_OPTIONS, router_alert,
      sizeof router_alert, "IP_OPTIONS (Router Alert)", sock->ifname, error);
}

static gboolean
setup_ipv6 (int fd, McpIgmpSocket * sock, GError ** error)
{
  struct icmp6_filter filter;
  struct ipv6_mreq mreq = { 0 };
  struct ipv6_mreq routers = { 0 };
  int one = 1, zero = 0;
  guint8 hopopts[8] = { 0 };     /* the next header byte is the kernel's */
  guint16 ra = 0;               /* Router Alert value 0: MLD (RFC 2711) */
  void *data;
  int off;

  ICMP6_FILTER_SETBLOCKALL (&filter);
  ICMP6_FILTER_SETPASS (MLD_QUERY, &filter);
  ICMP6_FILTER_SETPASS (MLD_V1_REPORT, &filter);
  ICMP6_FILTER_SETPASS (MLD_V1_DONE, &filter);
  ICMP6_FILTER_SETPASS (MLD_V2_REPORT, &filter);

  /* the hop-by-hop header: Router Alert, padded to 8 bytes */
  off = inet6_opt_init (hopopts, sizeof hopopts);
  off = inet6_opt_append (hopopts, sizeof hopopts, off, IP6OPT_ROUTER_ALERT,
      2, 2, &data);
  if (off < 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "cannot build the Router Alert option for %s", sock->ifname);
    return FALSE;
  }
  inet6_opt_set_val (data, 0, &ra, sizeof ra);
  off = inet6_opt_finish (hopopts, sizeof hopopts, off);

  inet_pton (AF_INET6, "ff02::16", &mreq.ipv6mr_multiaddr);
  mreq.ipv6mr_interface = sock->ifindex;
  /* all routers: where MLDv1 dones go */
  inet_pton (AF_INET6, "ff02::2", &routers.ipv6mr_multiaddr);
  routers.ipv6mr_interface = sock->ifindex;
  return set_opt (fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter,
      "ICMP6_FILTER", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq,
      "IPV6_JOIN_GROUP ff02::16", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &routers,
      sizeof routers, "IPV6_JOIN_GROUP ff02::2", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &one, sizeof one,
      "IPV6_MULTICAST_ALL", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one,
      "IPV6_RECVPKTINFO", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one,
      "IPV6_RECVHOPLIMIT", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &sock->ifindex,
      sizeof sock->ifindex, "IPV6_MULTICAST_IF", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &one, sizeof one,
      "IPV6_MULTICAST_HOPS", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof zero,
      "IPV6_MULTICAST_LOOP", sock->ifname, error)
      && set_opt (fd, IPPROTO_IPV6, IPV6_HOPOPTS, hopopts, off,
      "IPV6_HOPOPTS (Router Alert)", sock->ifname, error);
}

McpIgmpSocket *
mcp_igmp_socket_new (GSocketFamily family, const gchar * ifname,
    GError ** error)
{
  const gchar *proto = family == G_SOCKET_FAMILY_IPV6 ? "MLD" : "IGMP";
  McpIgmpSocket *sock;
  GArray *ifaces;
  guint ifindex;
  int fd, err;

  g_return_val_if_fail (family == G_SOCKET_FAMILY_IPV4
      || family == G_SOCKET_FAMILY_IPV6, NULL);
  g_return_val_if_fail (ifname != NULL, NULL);

  /* the one lookup of interface names (mcp-address), for one name */
  ifaces = strchr (ifname, ',') ? NULL : mcp_parse_interfaces (ifname, NULL);
  if (!ifaces || ifaces->len != 1) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "cannot listen to %s on %s: no network interface named '%s'", proto,
        ifname, ifname);
    g_clear_pointer (&ifaces, g_array_unref);
    return NULL;
  }
  ifindex = g_array_index (ifaces, guint, 0);
  g_array_unref (ifaces);

  if (family == G_SOCKET_FAMILY_IPV4)
    fd = socket (AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
        IPPROTO_IGMP);
  else
    fd = socket (AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
        IPPROTO_ICMPV6);
  if (fd < 0) {
    err = errno;
    if (err == EPERM || err == EACCES)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
          "listening to %s on %s needs CAP_NET_RAW (run as root or grant "
          "it): %s", proto, ifname, g_strerror (err));
    else
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
          "cannot open a raw %s socket for %s: %s", proto, ifname,
          g_strerror (err));
    return NULL;
  }

  sock = g_new0 (McpIgmpSocket, 1);
  sock->family = family;
  sock->ifname = g_strdup (ifname);
  sock->ifindex = ifindex;
  sock->own = interface_addresses (ifname, family);
  if (sock->own->len > 0)
    sock->address = g_object_ref (sock->own->pdata[0]);

  if (family == G_SOCKET_FAMILY_IPV6 && !sock->address) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "cannot send MLD on %s: it has no link-local IPv6 address", ifname);
    close (fd);
    mcp_igmp_socket_free (sock);
    return NULL;
  }

  /* only what arrives on ifname: a raw socket also gets the reports the
   * host sends on its other interfaces, looped back to it; the
   * IP_PKTINFO check in receive is a second guard */
  if (!set_opt (fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen (ifname),
          "SO_BINDTODEVICE", ifname, error)
      || !(family == G_SOCKET_FAMILY_IPV4 ? setup_ipv4 (fd, sock, error) :
          setup_ipv6 (fd, sock, error))) {
    close (fd);
    mcp_igmp_socket_free (sock);
    return NULL;
  }

  sock->socket = g_socket_new_from_fd (fd, error);
  if (!sock->socket) {
    close (fd);
    mcp_igmp_socket_free (sock);
    return NULL;
  }
  g_socket_set_blocking (sock->socket, FALSE);
  return sock;
}

void
mcp_igmp_socket_free (McpIgmpSocket * sock)
{
  if (!sock)
    return;
  if (sock->socket) {
    g_socket_close (sock->socket, NULL);
    g_object_unref (sock->socket);
  }
  g_clear_object (&sock->address);
  g_ptr_array_unref (sock->own);
  g_free (sock->ifname);
  g_free (sock);
}

static gboolean
is_own (McpIgmpSocket * sock, GInetAddress * from)
{
  guint i;

  for (i = 0; i < sock->own->len; i++)
    if (g_inet_address_equal (sock->own->pdata[i], from))
      return TRUE;
  return FALSE;
}

static McpIgmpSocketResult
ignored (GError ** error, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);

     static McpIgmpSocketResult
         ignored (GError ** error, const gchar * format, ...)
{
  va_list args;

  if (error) {
    va_start (args, format);
    *error = g_error_new_valist (MCP_IGMP_SOCKET_ERROR,
        MCP_IGMP_SOCKET_ERROR_IGNORED, format, args);
    va_end (args);
  }
  return MCP_IGMP_SOCKET_IGNORED;
}

McpIgmpSocketResult
mcp_igmp_socket_receive (McpIgmpSocket * sock, McpIgmpMessage ** msg,
    GInetAddress ** from, GError ** error)
{
  struct sockaddr_storage ss;
  union
  {
    struct cmsghdr align;
    guint8 buf[CMSG_SPACE (sizeof (struct in6_pktinfo)) +
        CMSG_SPACE (sizeof (int))];
  } control;
  struct iovec iov = { sock->buf, sizeof sock->buf };
  struct msghdr mh = { 0 };
  struct cmsghdr *cm;
  GInetAddress *src;
  McpIgmpMessage *m;
  GError *perr = NULL;
  const guint8 *payload;
  gsize plen;
  gssize n;
  int hops = -1;
  guint ifindex = 0;
  gchar *s;

  g_return_val_if_fail (msg && from, MCP_IGMP_SOCKET_ERROR_RESULT);
  *msg = NULL;
  *from = NULL;

  mh.msg_name = &ss;
  mh.msg_namelen = sizeof ss;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = &control;
  mh.msg_controllen = sizeof control;
  do
    n = recvmsg (g_socket_get_fd (sock->socket), &mh, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "cannot read the IGMP/MLD socket of %s: %s", sock->ifname,
        g_strerror (err));
    return MCP_IGMP_SOCKET_ERROR_RESULT;
  }

  for (cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm)) {
    if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy (&pi, CMSG_DATA (cm), sizeof pi);
      ifindex = pi.ipi_ifindex;
    } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy (&pi, CMSG_DATA (cm), sizeof pi);
      ifindex = pi.ipi6_ifindex;
    } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT) {
      memcpy (&hops, CMSG_DATA (cm), sizeof hops);
    }
  }
  if (ifindex != sock->ifindex)
    return ignored (error, "a packet that arrived on interface %u, not %s",
        ifindex, sock->ifname);

  if (sock->family == G_SOCKET_FAMILY_IPV4) {
    struct ip *ip = (struct ip *) sock->buf;
    gsize ihl, total;

    if (n < 20 || (ihl = ip->ip_hl * 4u) < 20 || ihl > (gsize) n)
      return ignored (error, "a truncated IPv4 packet of %" G_GSSIZE_FORMAT
          " bytes", n);
    /* the IP length, not the read's: a link may pad short frames */
    total = MIN ((gsize) n, (gsize) ntohs (ip->ip_len));
    if (total < ihl)
      total = n;
    src = g_inet_address_new_from_bytes ((const guint8 *) &ip->ip_src,
        G_SOCKET_FAMILY_IPV4);
    hops = ip->ip_ttl;
    payload = sock->buf + ihl;
    plen = total - ihl;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

    if (ss.ss_family != AF_INET6 || mh.msg_namelen < sizeof *sin6)
      return ignored (error, "an ICMPv6 packet without its source");
    src = g_inet_address_new_from_bytes ((const guint8 *) &sin6->sin6_addr,
        G_SOCKET_FAMILY_IPV6);
    payload = sock->buf;
    plen = n;
  }

  if (is_own (sock, src)) {
    g_object_unref (src);
    return ignored (error, "our own packet");
  }
  if (hops != 1) {
    s = g_inet_address_to_string (src);
    g_object_unref (src);
    ignored (error, "a packet from %s with a %s of %d, not 1", s,
        sock->family == G_SOCKET_FAMILY_IPV4 ? "TTL" : "hop limit", hops);
    g_free (s);
    return MCP_IGMP_SOCKET_IGNORED;
  }

  if (sock->family == G_SOCKET_FAMILY_IPV4)
    m = mcp_igmp_parse (payload, plen, &perr);
  else
    m = mcp_mld_parse (payload, plen, &perr);
  if (!m) {
    s = g_inet_address_to_string (src);
    g_object_unref (src);
    ignored (error, "from %s: %s", s, perr->message);
    g_free (s);
    g_error_free (perr);
    return MCP_IGMP_SOCKET_IGNORED;
  }

  /* RFC 3810 5.1.14, 5.2.13: queries from a link-local address, reports
   * from one or from :: (a host that has none yet) */
  if (sock->family == G_SOCKET_FAMILY_IPV6
      && !g_inet_address_get_is_link_local (src)
      && (m->kind == MCP_IGMP_QUERY || !g_inet_address_get_is_any (src))) {
    s = g_inet_address_to_string (src);
    g_object_unref (src);
    mcp_igmp_message_free (m);
    ignored (error, "an MLD message from %s, not a link-local address", s);
    g_free (s);
    return MCP_IGMP_SOCKET_IGNORED;
  }

  *msg = m;
  *from = src;
  return MCP_IGMP_SOCKET_MESSAGE;
}

gboolean
mcp_igmp_socket_send_query (McpIgmpSocket * sock, GBytes * query,
    GInetAddress * dest, GError ** error)
{
  union
  {
    struct cmsghdr align;
    guint8 buf[CMSG_SPACE (sizeof (struct in6_pktinfo))];
  } control;
  struct sockaddr_storage ss = { 0 };
  struct msghdr mh = { 0 };
  struct iovec iov;
  gsize len;
  gssize n;

  g_return_val_if_fail (query && dest, FALSE);
  if (g_inet_address_get_family (dest) != sock->family
      || !g_inet_address_get_is_multicast (dest)) {
    gchar *s = g_inet_address_to_string (dest);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "cannot send a query on %s to %s: not a multicast group of the "
        "socket's family", sock->ifname, s);
    g_free (s);
    return FALSE;
  }

  iov.iov_base = (void *) g_bytes_get_data (query, &len);
  iov.iov_len = len;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_name = &ss;

  if (sock->family == G_SOCKET_FAMILY_IPV4) {
    struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
    sin->sin_family = AF_INET;
    memcpy (&sin->sin_addr, g_inet_address_to_bytes (dest), 4);
    mh.msg_namelen = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
    struct in6_pktinfo pi = { 0 };
    struct cmsghdr *cm;

    sin6->sin6_family = AF_INET6;
    memcpy (&sin6->sin6_addr, g_inet_address_to_bytes (dest), 16);
    sin6->sin6_scope_id = sock->ifindex;
    mh.msg_namelen = sizeof *sin6;
    /* from our link-local address (RFC 3810 5.1.14) */
    memcpy (&pi.ipi6_addr, g_inet_address_to_bytes (sock->address), 16);
    pi.ipi6_ifindex = sock->ifindex;
    memset (&control, 0, sizeof control);
    mh.msg_control = &control;
    mh.msg_controllen = sizeof control.buf;
    cm = CMSG_FIRSTHDR (&mh);
    cm->cmsg_level = IPPROTO_IPV6;
    cm->cmsg_type = IPV6_PKTINFO;
    cm->cmsg_len = CMSG_LEN (sizeof pi);
    memcpy (CMSG_DATA (cm), &pi, sizeof pi);
  }

  do
    n = sendmsg (g_socket_get_fd (sock->socket), &mh, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    gchar *s = g_inet_address_to_string (dest);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
        "cannot send a query on %s to %s: %s", sock->ifname, s,
        g_strerror (err));
    g_free (s);
    return FALSE;
  }
  return TRUE;
}

GInetAddress *
mcp_igmp_socket_get_address (McpIgmpSocket * sock)
{
  return sock->address;
}

GSocket *
mcp_igmp_socket_get_socket (McpIgmpSocket * sock)
{
  return sock->socket;
}

GSocketFamily
mcp_igmp_socket_get_family (McpIgmpSocket * sock)
{
  return sock->family;
}

guint
mcp_igmp_socket_get_ifindex (McpIgmpSocket * sock)
{
  return sock->ifindex;
}
