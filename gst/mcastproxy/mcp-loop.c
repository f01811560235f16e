/* mcastproxy — a GMainContext running on a thread of its own. */
#include "config.h"

#include "mcp-loop.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct _McpLoop
{
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
};

typedef struct
{
  GSourceFunc func;
  gpointer data;
  GMutex lock;
  GCond cond;
  gboolean done;
} SyncCall;

static gpointer
loop_thread (gpointer data)
{
  McpLoop *self = data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

McpLoop *
mcp_loop_new (const gchar * thread_name)
{
  McpLoop *self = g_new0 (McpLoop, 1);

  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->thread = g_thread_new (thread_name, loop_thread, self);
  return self;
}

GMainContext *
mcp_loop_get_context (McpLoop * self)
{
  return self->context;
}

static gboolean
run_sync_call (gpointer data)
{
  SyncCall *call = data;

  call->func (call->data);
  g_mutex_lock (&call->lock);
  call->done = TRUE;
  g_cond_signal (&call->cond);
  g_mutex_unlock (&call->lock);
  return G_SOURCE_REMOVE;
}

void
mcp_loop_invoke_sync (McpLoop * self, GSourceFunc func, gpointer data)
{
  SyncCall call = { func, data };
  GSource *source;

  if (g_main_context_is_owner (self->context)) {
    func (data);
    return;
  }
  g_mutex_init (&call.lock);
  g_cond_init (&call.cond);
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, run_sync_call, &call, NULL);
  g_source_attach (source, self->context);
  g_source_unref (source);

  g_mutex_lock (&call.lock);
  while (!call.done)
    g_cond_wait (&call.cond, &call.lock);
  g_mutex_unlock (&call.lock);
  g_mutex_clear (&call.lock);
  g_cond_clear (&call.cond);
}

void
mcp_loop_invoke (McpLoop * self, GSourceFunc func, gpointer data,
    GDestroyNotify destroy)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, func, data, destroy);
  g_source_attach (source, self->context);
  g_source_unref (source);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
mcp_loop_free (McpLoop * self)
{
  GSource *source;

  if (!self)
    return;
  /* Quit from inside: a quit before the thread reached g_main_loop_run()
   * would be forgotten. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, quit_loop, self->loop, NULL);
  g_source_attach (source, self->context);
  g_source_unref (source);
  g_thread_join (self->thread);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_free (self);
}

GCancellable *
mcp_cancellable_new (void)
{
  GCancellable *cancellable = g_cancellable_new ();
  GPollFD pfd;

  g_cancellable_make_pollfd (cancellable, &pfd);
  return cancellable;
}

void
mcp_cancellable_free (GCancellable * cancellable)
{
  if (!cancellable)
    return;
  g_cancellable_release_fd (cancellable);
  g_object_unref (cancellable);
}

struct _McpWakeup
{
  gint fd;                      /* an eventfd: its counter is the flag */
};

McpWakeup *
mcp_wakeup_new (void)
{
  McpWakeup *wakeup = g_new (McpWakeup, 1);

  wakeup->fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeup->fd < 0)
    g_error ("eventfd: %s", g_strerror (errno));
  return wakeup;
}

void
mcp_wakeup_free (McpWakeup * wakeup)
{
  if (!wakeup)
    return;
  close (wakeup->fd);
  g_free (wakeup);
}

void
mcp_wakeup_get_pollfd (McpWakeup * wakeup, GPollFD * pfd)
{
  pfd->fd = wakeup->fd;
  pfd->events = G_IO_IN;
  pfd->revents = 0;
}

void
mcp_wakeup_set (McpWakeup * wakeup)
{
  guint64 one = 1;
  gssize n;

  do
    n = write (wakeup->fd, &one, sizeof (one));
  while (n < 0 && errno == EINTR);
}

void
mcp_wakeup_clear (McpWakeup * wakeup)
{
  guint64 count;
  gssize n;

  do
    n = read (wakeup->fd, &count, sizeof (count));
  while (n < 0 && errno == EINTR);
}
