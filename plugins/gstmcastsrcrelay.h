/* mcastproxy — mcastsrc-relay: joins a multicast group and pushes one buffer per datagram. */
#ifndef __GST_MCAST_SRC_RELAY_H__
#define __GST_MCAST_SRC_RELAY_H__

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_MCAST_SRC_RELAY (gst_mcast_src_relay_get_type ())
G_DECLARE_FINAL_TYPE (GstMcastSrcRelay, gst_mcast_src_relay, GST, MCAST_SRC_RELAY, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (mcastsrc_relay);

G_END_DECLS

#endif /* __GST_MCAST_SRC_RELAY_H__ */
