/* mcastproxy — a GMainContext running on a thread of its own. */
#ifndef __MCP_LOOP_H__
#define __MCP_LOOP_H__

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _McpLoop McpLoop;

/* Starts the thread; the context is its thread-default context. */
McpLoop *mcp_loop_new (const gchar * thread_name);
GMainContext *mcp_loop_get_context (McpLoop * loop);
/* Runs func (data) on the loop thread and waits for it to return. */
void mcp_loop_invoke_sync (McpLoop * loop, GSourceFunc func, gpointer data);
/* Runs func (data) on the loop thread soon, without waiting; destroy (data)
 * follows, also when the loop is freed first. */
void mcp_loop_invoke (McpLoop * loop, GSourceFunc func, gpointer data,
    GDestroyNotify destroy);
/* Quits the loop, joins the thread, then frees. Sources still attached stay
 * attached to the context; their owners destroy them. */
void mcp_loop_free (McpLoop * loop);

/* A cancellable for blocking waits that keeps its wake-up fd for its whole
 * life: GLib otherwise opens and closes one for every wait. Free it with
 * mcp_cancellable_free(). */
GCancellable *mcp_cancellable_new (void);
void mcp_cancellable_free (GCancellable * cancellable);

/* Something a thread can wait for in poll() together with its sockets, and
 * another thread set: cheap to set again while set, and reusable. */
typedef struct _McpWakeup McpWakeup;

McpWakeup *mcp_wakeup_new (void);
void mcp_wakeup_free (McpWakeup * wakeup);
/* For poll(): readable while set. */
void mcp_wakeup_get_pollfd (McpWakeup * wakeup, GPollFD * pfd);
void mcp_wakeup_set (McpWakeup * wakeup);
void mcp_wakeup_clear (McpWakeup * wakeup);

G_END_DECLS

#endif /* __MCP_LOOP_H__ */
