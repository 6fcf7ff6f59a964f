/* The chat program's shared state and the functions its files call in one
 * another. One file per job:
 *   chat.c        setup: command line, addresses, endpoint, signals, main
 *   chat_conn.c   the tou connection: open, read, link state, trace, close
 *   chat_input.c  what the user types or the script says: commands, lines
 *   chat_send.c   outgoing lines: held until connected, then written in order
 * The pure parts (no I/O) are line_framer, chat_script, chat_cli, chat_view. */
#ifndef CHAT_CHAT_H
#define CHAT_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tou.h>

#include "chat_cli.h"
#include "chat_script.h"
#include "chat_view.h"
#include "line_framer.h"

#define CHAT_MAX_LINE 4096
#define CHAT_MAX_QUEUED (1u << 20) /* bytes typed but not yet accepted by tou */
#define CHAT_CONNECT_RETRIES 20
#define CHAT_RETRY_MS 500

typedef struct out_msg {
  tou_write_t req;
  struct chat *chat;
  struct out_msg *next; /* in chat.held while not connected */
  size_t len;
  char text[]; /* the line and its "\n" */
} out_msg_t;

typedef struct chat {
  uv_loop_t *loop;
  chat_opts_t opts;
  chat_view_t view;
  chat_script_t script;
  size_t next_step;
  unsigned wait_for; /* /wait N: messages received before the script goes on */
  bool wait_back;    /* /wait back: the script goes on when the link is back */
  bool back_seen;    /* the link came back since it was last silent */

  tou_endpoint_t ep;
  tou_stream_t stream;
  tou_connect_t connect_req;
  tou_shutdown_t shutdown_req;
  struct sockaddr_storage peer_addr;
  bool ep_open, have_stream, established, quitting, fin_acked, peer_eof, finished;
  unsigned attempts;
  uint32_t conn_id;
  int tcp_state;

  chat_link_t link;
  uint64_t last_heard_ms;

  out_msg_t *held_head, *held_tail; /* typed before the connection was up */
  size_t queued_bytes;
  unsigned sent, received;

  line_framer_t peer_framer, input_framer;
  char peer_line[CHAT_MAX_LINE], input_line[CHAT_MAX_LINE];
  union {
    uv_tty_t tty;
    uv_pipe_t pipe;
  } input;
  bool input_open;
  int interrupts;
  uv_signal_t sigint;
  uv_timer_t script_timer, tick_timer, linger_timer, retry_timer, deadline_timer;
  int exit_code;
} chat_t;

uint64_t chat_now_ms(void);

/* chat_send.c */
void chat_send_text(chat_t *c, const char *text, size_t len);
void chat_flush_held(chat_t *c);

/* chat_input.c */
int chat_open_input(chat_t *c);
void chat_close_input(chat_t *c);
void chat_run_script(chat_t *c);
void chat_abort(chat_t *c, const char *why);

/* chat_conn.c */
int chat_start_connect(chat_t *c);
void chat_on_connection(tou_endpoint_t *ep, int status);
void chat_on_trace(void *arg, const tou_trace_t *t);
void chat_start_quit(chat_t *c);
void chat_maybe_exit(chat_t *c);
void chat_finish(chat_t *c, int code);

#endif
