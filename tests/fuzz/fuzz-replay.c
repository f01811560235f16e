/* mcastproxy fuzzing — runs saved inputs through a harness without
 * libFuzzer: the `main` of the harnesses in a normal build.
 *
 *   fuzz-NAME DIR|FILE...
 *
 * Every file named, and every file in every directory named, goes to
 * LLVMFuzzerTestOneInput() once, in name order. A harness aborts on a
 * broken check; without any input the run fails too, so that a corpus
 * which went missing does not pass unnoticed.
 */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void
run_file (const gchar * path)
{
  GError *err = NULL;
  gchar *contents;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, &err)) {
    g_printerr ("%s\n", err->message);
    exit (1);
  }
  g_print ("%s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
  g_free (contents);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* Returns the number of files run. */
static guint
run_dir (const gchar * path)
{
  GError *err = NULL;
  GDir *dir = g_dir_open (path, 0, &err);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;
  guint i;

  if (!dir) {
    g_printerr ("%s\n", err->message);
    exit (1);
  }
  while ((name = g_dir_read_name (dir)))
    g_ptr_array_add (files, g_build_filename (path, name, NULL));
  g_dir_close (dir);
  g_ptr_array_sort (files, compare_names);
  for (i = 0; i < files->len; i++)
    run_file (g_ptr_array_index (files, i));
  i = files->len;
  g_ptr_array_unref (files);
  return i;
}

int
main (int argc, char **argv)
{
  guint n = 0;
  int i;

  for (i = 1; i < argc; i++) {
    if (g_file_test (argv[i], G_FILE_TEST_IS_DIR)) {
      n += run_dir (argv[i]);
    } else {
      run_file (argv[i]);
      n++;
    }
  }
  if (n == 0) {
    g_printerr ("no input to run\n");
    return 1;
  }
  g_print ("%u inputs passed\n", n);
  return 0;
}
