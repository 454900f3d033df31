/* override.c — `--set path=value` applied to the YAML tree before binding.
 *
 * Overrides edit the tree, not the typed structs, so an overridden value is
 * read, validated and reported exactly like one written in the file; only its
 * position differs ("--set clients.web.rate=800/s" instead of file:line:col).
 * Missing map keys along the path are created, so any default can be
 * overridden; list items must exist.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

static int path_error(msim_error *err, const msim_override *ov, const char *fmt, const char *a)
{
    msim_error_set(err, -MSIM_EUSAGE, fmt, a);
    if (err) snprintf(err->file, sizeof err->file, "--set %s=%s", ov->path, ov->value);
    return -MSIM_EUSAGE;
}

static msim_node *empty_map(msim__arena *ar, const char *file)
{
    msim_node *n = msim__arena_alloc(ar, sizeof *n);
    if (n) {
        n->type = MSIM_NODE_MAP;
        n->file = file;
    }
    return n;
}

/* Append key -> NULL to a map; returns the new value slot. */
static msim_node **map_append(msim__arena *ar, msim_node *map, const char *key, const char *file)
{
    msim_node **keys = msim__arena_alloc(ar, (map->len + 2) * sizeof *keys);
    msim_node **items = msim__arena_alloc(ar, (map->len + 2) * sizeof *items);
    msim_node *k = msim__node_scalar(ar, key, file);
    if (!keys || !items || !k) return NULL;
    if (map->len) {
        memcpy(keys, map->keys, map->len * sizeof *keys);
        memcpy(items, map->items, map->len * sizeof *items);
    }
    keys[map->len] = k;
    map->keys = keys;
    map->items = items;
    return &map->items[map->len++];
}

/* Step into key of the map at *slot (reached through `parent`, "" at the
 * top), creating what is missing. */
static msim_node **step_key(msim__arena *ar, msim_node **slot, const char *parent, const char *key,
                            const char *file, const msim_override *ov, msim_error *err)
{
    if (!*slot || msim__node_is_null(*slot)) *slot = empty_map(ar, file);
    if (!*slot) return NULL;
    if ((*slot)->type != MSIM_NODE_MAP) {
        path_error(err, ov, "cannot set a key inside \"%s\": it is not a map", parent);
        return NULL;
    }
    msim_node *map = *slot;
    for (size_t i = 0; i < map->len; i++)
        if (strcmp(map->keys[i]->text, key) == 0) return &map->items[i];
    return map_append(ar, map, key, file);
}

static msim_node **step_index(msim_node **slot, size_t index, const msim_override *ov,
                              msim_error *err)
{
    char what[64];
    snprintf(what, sizeof what, "%zu", index);
    if (!*slot || (*slot)->type != MSIM_NODE_SEQ) {
        path_error(err, ov, "index [%s] used on something that is not a list", what);
        return NULL;
    }
    if (index >= (*slot)->len) {
        path_error(err, ov, "index [%s] is past the end of the list", what);
        return NULL;
    }
    return &(*slot)->items[index];
}

/* Positions inside a --set value mean nothing to the user: the file name
 * (the whole --set argument) says where it came from. */
static void clear_positions(msim_node *n)
{
    if (!n) return;
    n->line = n->col = 0;
    for (size_t i = 0; i < n->len; i++) {
        if (n->keys) clear_positions(n->keys[i]);
        clear_positions(n->items[i]);
    }
}

int msim__override_apply(msim__arena *ar, msim_node **root, const msim_override *ov, int index,
                         msim_error *err)
{
    (void)index;
    char file[600];
    snprintf(file, sizeof file, "--set %s=%s", ov->path, ov->value);
    const char *fname = msim__arena_strdup(ar, file);
    char *path = msim__arena_strdup(ar, ov->path);
    if (!fname || !path) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    if (!path[0]) return path_error(err, ov, "empty path%s", "");
    msim_node *value = NULL;
    int rc = msim__yaml_parse(ar, ov->value, strlen(ov->value), fname, &value, err);
    if (rc) {
        if (err) err->line = err->col = 0; /* the file name is the whole --set argument */
        return rc;
    }
    if (!value) value = msim__node_scalar(ar, "", fname);
    clear_positions(value);

    msim_node **slot = root;
    const char *parent = "";
    for (char *p = path; slot && *p;) {
        if (*p == '[') {
            char *end;
            unsigned long i = strtoul(p + 1, &end, 10);
            if (end == p + 1 || *end != ']') return path_error(err, ov, "bad index in path %s", ov->path);
            slot = step_index(slot, i, ov, err);
            p = end + 1;
        } else {
            size_t n = strcspn(p, ".[");
            if (n == 0) return path_error(err, ov, "empty key in path %s", ov->path);
            char save = p[n];
            p[n] = '\0';
            slot = step_key(ar, slot, parent, p, fname, ov, err);
            parent = msim__arena_strdup(ar, p);
            p[n] = save;
            p += n;
            if (!parent) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
        }
        if (*p == '.') p++;
    }
    if (!slot) return err && err->code ? err->code : -MSIM_ENOMEM;
    *slot = value;
    return 0;
}
