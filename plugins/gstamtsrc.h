/* mcastproxy — amtsrc: an AMT gateway (RFC 7450) that receives a multicast
 * group through a relay's UDP tunnel and pushes one buffer per datagram. */
#ifndef __GST_AMT_SRC_H__
#define __GST_AMT_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_AMT_SRC (gst_amt_src_get_type ())
G_DECLARE_FINAL_TYPE (GstAmtSrc, gst_amt_src, GST, AMT_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (amtsrc);

G_END_DECLS

#endif /* __GST_AMT_SRC_H__ */
