#include "sigmsg.h"

#include <stdio.h>
#include <string.h>

static const char *const type_names[SIG_TYPE_COUNT] = {
    "join", "offer", "answer", "candidate", "bye", "joined", "peer-link", "error"};

static const char *const err_codes[SIG_E_COUNT] = {
    "ok",           "bad-json",     "not-object",     "bad-type",       "unknown-type",
    "unexpected-type", "missing-field", "bad-field",  "too-large",      "bad-framing",
    "not-joined",   "already-joined", "room-full",    "too-many-rooms", "name-taken",
    "no-such-peer", "server-full"};

const char *sig_type_name(sig_type_t t) {
  return (unsigned)t < SIG_TYPE_COUNT ? type_names[t] : "unknown";
}

const char *sig_err_code(sig_err_t e) {
  return (unsigned)e < SIG_E_COUNT ? err_codes[e] : "unknown";
}

int sig_valid_ident(const char *s, size_t max) {
  size_t n = 0;
  for (; s[n]; n++) {
    char ch = s[n];
    if (n >= max) return 0;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '.' || ch == '_' || ch == '-'))
      return 0;
  }
  return n > 0;
}

/* ---- validation: one table row per field ---------------------------------- */

typedef enum field_kind { F_IDENT, F_TEXT, F_INDEX, F_NAMES } field_kind_t;

typedef struct field_spec {
  const char *key;
  field_kind_t kind;
  size_t max;       /* characters (F_IDENT, F_TEXT), value (F_INDEX) */
  int required;
  size_t offset;    /* where the value goes in sig_msg_t */
} field_spec_t;

#define AT(f) offsetof(sig_msg_t, f)
#define END {NULL, F_TEXT, 0, 0, 0}

static const field_spec_t join_fields[] = {{"room", F_IDENT, SIG_MAX_ROOM, 1, AT(room)},
                                           {"name", F_IDENT, SIG_MAX_NAME, 1, AT(name)}, END};
static const field_spec_t sdp_fields[] = {{"sdp", F_TEXT, SIG_MAX_SDP, 1, AT(sdp)},
                                          {"to", F_IDENT, SIG_MAX_NAME, 0, AT(to)}, END};
static const field_spec_t cand_fields[] = {
    {"candidate", F_TEXT, SIG_MAX_CANDIDATE, 1, AT(candidate)},
    {"sdpMid", F_TEXT, 64, 0, AT(sdp_mid)},
    {"sdpMLineIndex", F_INDEX, 65535, 0, AT(mline_index)},
    {"to", F_IDENT, SIG_MAX_NAME, 0, AT(to)}, END};
static const field_spec_t bye_fields[] = {{"reason", F_TEXT, SIG_MAX_TEXT, 0, AT(reason)},
                                          {"to", F_IDENT, SIG_MAX_NAME, 0, AT(to)}, END};
static const field_spec_t joined_fields[] = {{"room", F_IDENT, SIG_MAX_ROOM, 1, AT(room)},
                                             {"name", F_IDENT, SIG_MAX_NAME, 1, AT(name)},
                                             {"members", F_NAMES, 0, 1, AT(members)}, END};
static const field_spec_t link_fields[] = {{"name", F_IDENT, SIG_MAX_NAME, 1, AT(name)},
                                           {"state", F_IDENT, 16, 1, AT(state)}, END};
static const field_spec_t error_fields[] = {{"code", F_IDENT, 32, 1, AT(code)},
                                            {"message", F_TEXT, SIG_MAX_TEXT, 1, AT(message)},
                                            END};
static const field_spec_t from_field[] = {{"from", F_IDENT, SIG_MAX_NAME, 1, AT(from)}, END};

static const field_spec_t *const fields_of[SIG_TYPE_COUNT] = {
    join_fields, sdp_fields, sdp_fields, cand_fields, bye_fields,
    joined_fields, link_fields, error_fields};

/* Which side may send each type: 1 client, 2 server, 3 both (relayed). */
static const int sent_by[SIG_TYPE_COUNT] = {3, 3, 3, 3, 3, 2, 2, 2};

static sig_err_t check_field(const cJSON *obj, const field_spec_t *f, sig_msg_t *out,
                             char *detail, size_t cap) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, f->key);
  if (!v) {
    if (!f->required) return SIG_OK;
    snprintf(detail, cap, "missing field \"%s\"", f->key);
    return SIG_E_MISSING_FIELD;
  }
  char *slot = (char *)out + f->offset;
  switch (f->kind) {
    case F_IDENT:
      if (!cJSON_IsString(v) || !sig_valid_ident(v->valuestring, f->max)) {
        snprintf(detail, cap, "field \"%s\" must be 1..%zu characters of [A-Za-z0-9._-]",
                 f->key, f->max);
        return SIG_E_BAD_FIELD;
      }
      *(const char **)slot = v->valuestring;
      return SIG_OK;
    case F_TEXT:
      if (!cJSON_IsString(v) || strlen(v->valuestring) > f->max) {
        snprintf(detail, cap, "field \"%s\" must be a string of at most %zu bytes", f->key,
                 f->max);
        return SIG_E_BAD_FIELD;
      }
      *(const char **)slot = v->valuestring;
      return SIG_OK;
    case F_INDEX:
      if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > (double)f->max ||
          v->valuedouble != (double)(int)v->valuedouble) {
        snprintf(detail, cap, "field \"%s\" must be an integer 0..%zu", f->key, f->max);
        return SIG_E_BAD_FIELD;
      }
      *(int *)slot = (int)v->valuedouble;
      return SIG_OK;
    case F_NAMES: {
      const cJSON *item;
      int ok = cJSON_IsArray(v);
      if (ok)
        cJSON_ArrayForEach(item, v) {
          if (!cJSON_IsString(item) || !sig_valid_ident(item->valuestring, SIG_MAX_NAME)) ok = 0;
        }
      if (!ok) {
        snprintf(detail, cap, "field \"%s\" must be an array of names", f->key);
        return SIG_E_BAD_FIELD;
      }
      *(const cJSON **)slot = v;
      return SIG_OK;
    }
  }
  return SIG_E_BAD_FIELD;
}

static sig_err_t check_fields(const cJSON *obj, const field_spec_t *spec, sig_msg_t *out,
                              char *detail, size_t cap) {
  for (; spec->key; spec++) {
    sig_err_t e = check_field(obj, spec, out, detail, cap);
    if (e != SIG_OK) return e;
  }
  return SIG_OK;
}

sig_err_t sig_parse(const uint8_t *data, size_t len, int from_server, sig_msg_t *out,
                    char *detail, size_t cap) {
  memset(out, 0, sizeof *out);
  out->mline_index = -1;
  detail[0] = '\0';
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts((const char *)data, len, &end, 0);
  sig_err_t e = SIG_OK;
  /* One JSON value per message: trailing bytes (other than white space)
   * mean the sender and we disagree about where it ends. */
  while (root && end < (const char *)data + len &&
         (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n' || *end == '\0'))
    end++;
  if (root && end != (const char *)data + len) {
    cJSON_Delete(root);
    root = NULL;
  }
  if (!root) {
    snprintf(detail, cap, "not valid JSON");
    return SIG_E_BAD_JSON;
  }
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
  int t = 0;
  if (!cJSON_IsObject(root)) {
    snprintf(detail, cap, "a message is a JSON object");
    e = SIG_E_NOT_OBJECT;
  } else if (!cJSON_IsString(type)) {
    snprintf(detail, cap, "field \"type\" (a string) is required");
    e = SIG_E_BAD_TYPE;
  } else {
    while (t < SIG_TYPE_COUNT && strcmp(type_names[t], type->valuestring)) t++;
    if (t == SIG_TYPE_COUNT) {
      snprintf(detail, cap, "unknown type (join, offer, answer, candidate, bye)");
      e = SIG_E_UNKNOWN_TYPE;
    } else if (!(sent_by[t] & (from_server ? 2 : 1))) {
      snprintf(detail, cap, "\"%s\" is sent by the %s", type_names[t],
               from_server ? "client" : "server");
      e = SIG_E_WRONG_SIDE;
    }
  }
  if (e == SIG_OK) e = check_fields(root, fields_of[t], out, detail, cap);
  /* The server adds "from" to everything it relays. */
  if (e == SIG_OK && from_server && sent_by[t] == 3)
    e = check_fields(root, from_field, out, detail, cap);
  if (e != SIG_OK) {
    cJSON_Delete(root);
    memset(out, 0, sizeof *out);
    return e;
  }
  out->type = (sig_type_t)t;
  out->root = root;
  return SIG_OK;
}

void sig_msg_free(sig_msg_t *m) {
  cJSON_Delete(m->root);
  m->root = NULL;
}

/* ---- builders ---------------------------------------------------------------- */

static char *print_and_free(cJSON *obj, int ok) {
  char *text = ok ? cJSON_PrintUnformatted(obj) : NULL;
  cJSON_Delete(obj);
  return text;
}

static cJSON *new_typed(sig_type_t t) {
  cJSON *obj = cJSON_CreateObject();
  if (obj && !cJSON_AddStringToObject(obj, "type", type_names[t])) {
    cJSON_Delete(obj);
    return NULL;
  }
  return obj;
}

static int add_str(cJSON *obj, const char *key, const char *value) {
  return value == NULL || cJSON_AddStringToObject(obj, key, value) != NULL;
}

char *sig_build_join(const char *room, const char *name) {
  cJSON *o = new_typed(SIG_JOIN);
  return o ? print_and_free(o, add_str(o, "room", room) && add_str(o, "name", name)) : NULL;
}

char *sig_build_sdp(sig_type_t type, const char *sdp, const char *to) {
  cJSON *o = new_typed(type);
  return o ? print_and_free(o, add_str(o, "sdp", sdp) && add_str(o, "to", to)) : NULL;
}

char *sig_build_candidate(const char *candidate, const char *sdp_mid, int mline_index,
                          const char *to) {
  cJSON *o = new_typed(SIG_CANDIDATE);
  if (!o) return NULL;
  int ok = add_str(o, "candidate", candidate) && add_str(o, "sdpMid", sdp_mid) &&
           add_str(o, "to", to) &&
           (mline_index < 0 || cJSON_AddNumberToObject(o, "sdpMLineIndex", mline_index));
  return print_and_free(o, ok);
}

char *sig_build_bye(const char *reason) {
  cJSON *o = new_typed(SIG_BYE);
  return o ? print_and_free(o, add_str(o, "reason", reason)) : NULL;
}

char *sig_build_bye_from(const char *from, const char *reason) {
  cJSON *o = new_typed(SIG_BYE);
  return o ? print_and_free(o, add_str(o, "reason", reason) && add_str(o, "from", from)) : NULL;
}

char *sig_build_relay(const sig_msg_t *m, const char *from) {
  cJSON *o = cJSON_Duplicate(m->root, 1);
  if (!o) return NULL;
  cJSON_DeleteItemFromObjectCaseSensitive(o, "from"); /* a client cannot pose as another */
  return print_and_free(o, add_str(o, "from", from));
}

char *sig_build_joined(const char *room, const char *name, const char *const *members,
                       size_t count) {
  cJSON *o = new_typed(SIG_JOINED);
  if (!o) return NULL;
  cJSON *arr = cJSON_AddArrayToObject(o, "members");
  int ok = arr && add_str(o, "room", room) && add_str(o, "name", name);
  for (size_t i = 0; ok && i < count; i++) {
    cJSON *s = cJSON_CreateString(members[i]);
    ok = s && cJSON_AddItemToArray(arr, s);
  }
  return print_and_free(o, ok);
}

char *sig_build_peer_link(const char *name, const char *state) {
  cJSON *o = new_typed(SIG_PEER_LINK);
  return o ? print_and_free(o, add_str(o, "name", name) && add_str(o, "state", state)) : NULL;
}

char *sig_build_error(sig_err_t code, const char *message) {
  cJSON *o = new_typed(SIG_ERROR);
  return o ? print_and_free(o, add_str(o, "code", sig_err_code(code)) &&
                                   add_str(o, "message", message ? message : ""))
           : NULL;
}

void sig_text_free(char *text) { cJSON_free(text); }
