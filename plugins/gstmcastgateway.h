/* mcastproxy — mcastgateway: any multicast channel a player names, over
 * HTTP, joined on demand. */
#ifndef __GST_MCAST_GATEWAY_H__
#define __GST_MCAST_GATEWAY_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_MCAST_GATEWAY (gst_mcast_gateway_get_type ())
G_DECLARE_FINAL_TYPE (GstMcastGateway, gst_mcast_gateway, GST, MCAST_GATEWAY,
    GstElement)

GST_ELEMENT_REGISTER_DECLARE (mcastgateway);

G_END_DECLS

#endif /* __GST_MCAST_GATEWAY_H__ */
