/*
 * query.c - looking things up in a parsed INF: sections by name (ignoring
 * ASCII case), their lines, and keyed values.  The public queries of inf.h
 * and the lookups the substitution and the driver reader use.
 */
#include "internal.h"

#include <string.h>

static const struct inf_section *find_section_n(const inf_file *inf, const char *name,
                                                size_t len)
{
    size_t index;
    if (!inf || !name || !inf_table_find(&inf->section_index, name, len, &index))
        return NULL;
    return &inf->sections[index];
}

const struct inf_section *inf_find_section(const inf_file *inf, const char *name)
{
    return name ? find_section_n(inf, name, strlen(name)) : NULL;
}

const inf_line *inf_section_line(const inf_file *inf, const struct inf_section *s, size_t i)
{
    return &inf->lines[s->lines[i]].pub;
}

const inf_line *inf_find_keyed_line(const inf_file *inf, const struct inf_section *s,
                                    const char *key)
{
    for (size_t i = 0; s && key && i < s->count; i++) {
        const inf_line *line = inf_section_line(inf, s, i);
        if (line->key && inf_same_name(line->key, key))
            return line;
    }
    return NULL;
}

const char *inf_first_field(const inf_line *line)
{
    return !line ? NULL : line->field_count ? line->fields[0] : "";
}

bool inf_has_section(const inf_file *inf, const char *section)
{
    return inf_find_section(inf, section) != NULL;
}

size_t inf_line_count(const inf_file *inf, const char *section)
{
    const struct inf_section *s = inf_find_section(inf, section);
    return s ? s->count : 0;
}

const inf_line *inf_line_at(const inf_file *inf, const char *section, size_t index)
{
    const struct inf_section *s = inf_find_section(inf, section);
    return s && index < s->count ? inf_section_line(inf, s, index) : NULL;
}

const char *inf_value(const inf_file *inf, const char *section, const char *key)
{
    return inf_first_field(inf_find_keyed_line(inf, inf_find_section(inf, section), key));
}
