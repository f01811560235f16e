/* mcastproxy — tcpmeshrouter: one node of a mesh of island gateways. */
#ifndef __GST_TCP_MESH_ROUTER_H__
#define __GST_TCP_MESH_ROUTER_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_TCP_MESH_ROUTER (gst_tcp_mesh_router_get_type ())
G_DECLARE_FINAL_TYPE (GstTcpMeshRouter, gst_tcp_mesh_router, GST,
    TCP_MESH_ROUTER, GstElement)

GST_ELEMENT_REGISTER_DECLARE (tcpmeshrouter);

G_END_DECLS

#endif /* __GST_TCP_MESH_ROUTER_H__ */
