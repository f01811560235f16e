/* mcastproxy — watching interfaces and their addresses (rtnetlink, Linux). */
#include "config.h"

#include "mcp-netlink.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* <linux/if.h> has it, but clashes with <net/if.h> */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

/* Room for a burst of notifications while the owner is not reading (an
 * overrun costs a re-read of the whole state). */
#define RCVBUF_SIZE (1024 * 1024)
#define RECV_SIZE 32768
/* A request to the kernel is answered at once; this only guards against a
 * kernel that never answers. */
#define REQUEST_TIMEOUT_S 2

typedef struct
{
  gchar name[IF_NAMESIZE];
  gboolean up;
} Link;

struct _McpNetlink
{
  gint fd;
  GHashTable *links;            /* ifindex -> Link */
  GHashTable *addresses;        /* "ifindex/family/address" -> usable */
};

static void
set_errno_error (GError ** error, gint err, const gchar * what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s: %s",
      what, g_strerror (err));
}

static gint
open_socket (guint32 groups, gboolean nonblocking, GError ** error)
{
  struct sockaddr_nl local;
  gint fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC |
      (nonblocking ? SOCK_NONBLOCK : 0), NETLINK_ROUTE);

  if (fd < 0) {
    set_errno_error (error, errno, "cannot open a netlink socket");
    return -1;
  }
  memset (&local, 0, sizeof (local));
  local.nl_family = AF_NETLINK;
  local.nl_groups = groups;
  if (bind (fd, (struct sockaddr *) &local, sizeof (local)) < 0) {
    set_errno_error (error, errno, "cannot bind a netlink socket");
    close (fd);
    return -1;
  }
  return fd;
}

static void
add_attr (struct nlmsghdr *nh, gsize room, gint type, const void *data,
    gsize len)
{
  struct rtattr *rta = (struct rtattr *) ((guint8 *) nh +
      NLMSG_ALIGN (nh->nlmsg_len));

  g_assert (NLMSG_ALIGN (nh->nlmsg_len) + RTA_SPACE (len) <= room);
  rta->rta_type = type;
  rta->rta_len = RTA_LENGTH (len);
  memcpy (RTA_DATA (rta), data, len);
  nh->nlmsg_len = NLMSG_ALIGN (nh->nlmsg_len) + RTA_ALIGN (rta->rta_len);
}

/* Sends one request on a blocking socket of its own and hands every reply
 * message to func until the answer is complete. */
static gboolean
request (struct nlmsghdr *req, gboolean (*func) (struct nlmsghdr * nh,
        gpointer data), gpointer data, GError ** error)
{
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK };
  struct timeval tv = {.tv_sec = REQUEST_TIMEOUT_S };
  gboolean dump = (req->nlmsg_flags & NLM_F_DUMP) != 0, ok = FALSE;
  guint8 *buf = NULL;
  gint fd = open_socket (0, FALSE, error);

  if (fd < 0)
    return FALSE;
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  req->nlmsg_seq = 1;
  if (sendto (fd, req, req->nlmsg_len, 0, (struct sockaddr *) &kernel,
          sizeof (kernel)) < 0) {
    set_errno_error (error, errno, "netlink request failed");
    goto done;
  }
  buf = g_malloc (RECV_SIZE);
  for (;;) {
    struct nlmsghdr *nh;
    gssize n = recv (fd, buf, RECV_SIZE, 0);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      set_errno_error (error, n < 0 ? errno : EPROTO,
          "no answer to a netlink request");
      goto done;
    }
    for (nh = (struct nlmsghdr *) buf; NLMSG_OK (nh, (gsize) n);
        nh = NLMSG_NEXT (nh, n)) {
      if (nh->nlmsg_seq != 1)
        continue;
      if (nh->nlmsg_type == NLMSG_DONE) {
        ok = TRUE;
        goto done;
      }
      if (nh->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA (nh);

        if (e->error == 0) {
          ok = TRUE;
        } else {
          set_errno_error (error, -e->error, "netlink request refused");
        }
        goto done;
      }
      if (!func (nh, data) || !dump) {
        ok = TRUE;
        goto done;
      }
    }
  }
done:
  g_free (buf);
  close (fd);
  return ok;
}

/* ---- state ------------------------------------------------------------- */

typedef struct
{
  McpNetlink *nl;
  McpNetlinkFunc func;          /* NULL: only learn the state */
  gpointer data;
} Handler;

static void
emit (Handler * h, McpNetlinkEventType type, guint ifindex,
    const gchar * ifname, GSocketFamily family, const gchar * address)
{
  McpNetlinkEvent ev;

  if (!h->func)
    return;
  memset (&ev, 0, sizeof (ev));
  ev.type = type;
  ev.ifindex = ifindex;
  if (ifname)
    g_strlcpy (ev.ifname, ifname, sizeof (ev.ifname));
  ev.family = family;
  if (address)
    g_strlcpy (ev.address, address, sizeof (ev.address));
  h->func (&ev, h->data);
}

static struct rtattr *
find_attr (struct rtattr *rta, gint len, gint type)
{
  for (; RTA_OK (rta, len); rta = RTA_NEXT (rta, len))
    if (rta->rta_type == type)
      return rta;
  return NULL;
}

static void
handle_link (Handler * h, struct nlmsghdr *nh)
{
  struct ifinfomsg *ifi = NLMSG_DATA (nh);
  gint len = nh->nlmsg_len - NLMSG_LENGTH (sizeof (*ifi));
  gpointer key = GUINT_TO_POINTER (ifi->ifi_index);
  Link *link = g_hash_table_lookup (h->nl->links, key);
  struct rtattr *name;
  gboolean up, renamed = FALSE;

  /* IPv6 also sends RTM_NEWLINK of its own (AF_INET6) for its settings */
  if (len < 0 || ifi->ifi_family != AF_UNSPEC || ifi->ifi_index <= 0)
    return;
  if (nh->nlmsg_type == RTM_DELLINK) {
    if (link) {
      gchar ifname[IF_NAMESIZE];

      g_strlcpy (ifname, link->name, sizeof (ifname));
      g_hash_table_remove (h->nl->links, key);
      emit (h, MCP_NETLINK_LINK_REMOVED, ifi->ifi_index, ifname, 0, NULL);
    }
    return;
  }
  /* RUNNING alone is not enough: a new interface counts as running (its
   * operational state unknown) until the kernel's link watch has looked at
   * its carrier */
  up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING)
      && (ifi->ifi_flags & IFF_LOWER_UP);
  name = find_attr (IFLA_RTA (ifi), len, IFLA_IFNAME);
  if (!link) {
    link = g_new0 (Link, 1);
    g_hash_table_insert (h->nl->links, key, link);
    renamed = TRUE;
  }
  if (name) {
    gchar newname[IF_NAMESIZE] = { 0 };

    memcpy (newname, RTA_DATA (name), MIN (RTA_PAYLOAD (name),
            sizeof (newname) - 1));
    if (strcmp (newname, link->name) != 0) {
      g_strlcpy (link->name, newname, sizeof (link->name));
      renamed = TRUE;
    }
  }
  if (renamed)
    emit (h, MCP_NETLINK_LINK_ADDED, ifi->ifi_index, link->name, 0, NULL);
  if (up != link->up) {
    link->up = up;
    emit (h, up ? MCP_NETLINK_LINK_UP : MCP_NETLINK_LINK_DOWN,
        ifi->ifi_index, link->name, 0, NULL);
  }
}

static void
handle_address (Handler * h, struct nlmsghdr *nh)
{
  struct ifaddrmsg *ifa = NLMSG_DATA (nh);
  gint len = nh->nlmsg_len - NLMSG_LENGTH (sizeof (*ifa));
  struct rtattr *addr, *flags_attr;
  GSocketFamily family;
  GInetAddress *inet;
  Link *link;
  gchar *text, *key;
  guint32 flags;
  gboolean usable, known, was_usable = FALSE;
  gpointer value;

  if (len < 0 || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
    return;
  addr = find_attr (IFA_RTA (ifa), len, IFA_LOCAL);
  if (!addr)
    addr = find_attr (IFA_RTA (ifa), len, IFA_ADDRESS);
  if (!addr || RTA_PAYLOAD (addr) != (ifa->ifa_family == AF_INET ? 4 : 16))
    return;
  family = ifa->ifa_family == AF_INET ? G_SOCKET_FAMILY_IPV4 :
      G_SOCKET_FAMILY_IPV6;
  inet = g_inet_address_new_from_bytes (RTA_DATA (addr), family);
  text = g_inet_address_to_string (inet);
  g_object_unref (inet);
  key = g_strdup_printf ("%u/%d/%s", ifa->ifa_index, family, text);

  flags = ifa->ifa_flags;
  flags_attr = find_attr (IFA_RTA (ifa), len, IFA_FLAGS);
  if (flags_attr && RTA_PAYLOAD (flags_attr) >= sizeof (guint32))
    memcpy (&flags, RTA_DATA (flags_attr), sizeof (guint32));
  usable = !(flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));

  known = g_hash_table_lookup_extended (h->nl->addresses, key, NULL, &value);
  if (known)
    was_usable = GPOINTER_TO_UINT (value);
  link = g_hash_table_lookup (h->nl->links, GUINT_TO_POINTER (ifa->ifa_index));

  if (nh->nlmsg_type == RTM_DELADDR) {
    g_hash_table_remove (h->nl->addresses, key);
    if (was_usable)
      emit (h, MCP_NETLINK_ADDRESS_REMOVED, ifa->ifa_index,
          link ? link->name : NULL, family, text);
    g_free (key);
  } else {
    /* also sent for mere updates (lifetimes): only news count */
    g_hash_table_insert (h->nl->addresses, key, GUINT_TO_POINTER (usable));
    if (usable && !was_usable)
      emit (h, MCP_NETLINK_ADDRESS_ADDED, ifa->ifa_index,
          link ? link->name : NULL, family, text);
  }
  g_free (text);
}

static gboolean
handle_message (struct nlmsghdr *nh, gpointer data)
{
  switch (nh->nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
      handle_link (data, nh);
      break;
    case RTM_NEWADDR:
    case RTM_DELADDR:
      handle_address (data, nh);
      break;
    default:
      break;
  }
  return TRUE;
}

/* Reads all links, then all addresses, into empty tables. */
static gboolean
read_state (McpNetlink * nl, GError ** error)
{
  struct
  {
    struct nlmsghdr nh;
    struct rtgenmsg gen;
  } req;
  Handler h = { nl, NULL, NULL };

  g_hash_table_remove_all (nl->links);
  g_hash_table_remove_all (nl->addresses);
  memset (&req, 0, sizeof (req));
  req.nh.nlmsg_len = NLMSG_LENGTH (sizeof (req.gen));
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.gen.rtgen_family = AF_UNSPEC;
  req.nh.nlmsg_type = RTM_GETLINK;
  if (!request (&req.nh, handle_message, &h, error))
    return FALSE;
  req.nh.nlmsg_type = RTM_GETADDR;
  return request (&req.nh, handle_message, &h, error);
}

McpNetlink *
mcp_netlink_new (GError ** error)
{
  McpNetlink *nl = g_new0 (McpNetlink, 1);
  gint size = RCVBUF_SIZE;

  nl->links = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  nl->addresses = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* subscribed first: what changes while the state is read is not lost */
  nl->fd = open_socket (RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
      RTMGRP_IPV6_IFADDR, TRUE, error);
  if (nl->fd < 0 || !read_state (nl, error)) {
    mcp_netlink_free (nl);
    return NULL;
  }
  setsockopt (nl->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof (size));
  return nl;
}

void
mcp_netlink_free (McpNetlink * nl)
{
  if (!nl)
    return;
  if (nl->fd >= 0)
    close (nl->fd);
  g_hash_table_unref (nl->links);
  g_hash_table_unref (nl->addresses);
  g_free (nl);
}

gint
mcp_netlink_get_fd (McpNetlink * nl)
{
  return nl->fd;
}

gboolean
mcp_netlink_dispatch (McpNetlink * nl, McpNetlinkFunc func, gpointer data,
    GError ** error)
{
  Handler h = { nl, func, data };
  guint8 *buf = g_malloc (RECV_SIZE);
  gboolean ok = FALSE;

  for (;;) {
    struct sockaddr_nl from;
    socklen_t from_len = sizeof (from);
    struct nlmsghdr *nh;
    gssize n = recvfrom (nl->fd, buf, RECV_SIZE, MSG_DONTWAIT,
        (struct sockaddr *) &from, &from_len);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        ok = TRUE;
        break;
      }
      if (errno == ENOBUFS) {
        /* what was dropped is unknown: start over from the present */
        if (!read_state (nl, error))
          break;
        emit (&h, MCP_NETLINK_RESYNC, 0, NULL, 0, NULL);
        continue;
      }
      set_errno_error (error, errno, "reading netlink notifications failed");
      break;
    }
    if (from.nl_pid != 0)       /* only the kernel speaks here */
      continue;
    for (nh = (struct nlmsghdr *) buf; NLMSG_OK (nh, (gsize) n);
        nh = NLMSG_NEXT (nh, n))
      handle_message (nh, &h);
  }
  g_free (buf);
  return ok;
}

guint
mcp_netlink_lookup_index (McpNetlink * nl, const gchar * ifname)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, nl->links);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (strcmp (((Link *) value)->name, ifname) == 0)
      return GPOINTER_TO_UINT (key);
  return 0;
}

gboolean
mcp_netlink_is_up (McpNetlink * nl, guint ifindex)
{
  Link *link = g_hash_table_lookup (nl->links, GUINT_TO_POINTER (ifindex));

  return link && link->up;
}

const gchar *
mcp_netlink_lookup_name (McpNetlink * nl, guint ifindex)
{
  Link *link = g_hash_table_lookup (nl->links, GUINT_TO_POINTER (ifindex));

  return link ? link->name : NULL;
}

static gboolean
take_route_oif (struct nlmsghdr *nh, gpointer data)
{
  struct rtmsg *rtm = NLMSG_DATA (nh);
  gint len = nh->nlmsg_len - NLMSG_LENGTH (sizeof (*rtm));
  struct rtattr *oif;

  if (nh->nlmsg_type != RTM_NEWROUTE || len < 0)
    return TRUE;
  oif = find_attr (RTM_RTA (rtm), len, RTA_OIF);
  if (oif && RTA_PAYLOAD (oif) >= sizeof (guint32))
    memcpy (data, RTA_DATA (oif), sizeof (guint32));
  return FALSE;
}

guint
mcp_netlink_route_interface (GInetAddress * destination, GError ** error)
{
  struct
  {
    struct nlmsghdr nh;
    struct rtmsg rtm;
    guint8 attrs[64];
  } req;
  gsize len = g_inet_address_get_native_size (destination);
  guint32 oif = 0;

  memset (&req, 0, sizeof (req));
  req.nh.nlmsg_len = NLMSG_LENGTH (sizeof (req.rtm));
  req.nh.nlmsg_type = RTM_GETROUTE;
  req.nh.nlmsg_flags = NLM_F_REQUEST;
  req.rtm.rtm_family = len == 16 ? AF_INET6 : AF_INET;
  req.rtm.rtm_dst_len = len * 8;
  add_attr (&req.nh, sizeof (req), RTA_DST,
      g_inet_address_to_bytes (destination), len);
  if (!request (&req.nh, take_route_oif, &oif, error))
    return 0;
  if (oif == 0) {
    gchar *text = g_inet_address_to_string (destination);

    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE,
        "no route to %s names an interface", text);
    g_free (text);
  }
  return oif;
}
