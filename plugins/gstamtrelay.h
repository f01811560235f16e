/* mcastproxy — amtrelay: an AMT relay (RFC 7450) that serves the
 * multicast datagrams it is given to AMT gateways across unicast
 * networks. */
#ifndef __GST_AMT_RELAY_H__
#define __GST_AMT_RELAY_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_AMT_RELAY (gst_amt_relay_get_type ())
G_DECLARE_FINAL_TYPE (GstAmtRelay, gst_amt_relay, GST, AMT_RELAY,
    GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (amtrelay);

G_END_DECLS

#endif /* __GST_AMT_RELAY_H__ */
