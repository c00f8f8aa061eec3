// The process-wide stop request set by SIGINT/SIGTERM (installed by cli::main).
//
// The first signal sets the flag; readers see it after their blocking call returns
// (handlers are installed without SA_RESTART, so read/poll/sleep return EINTR) and
// the run drains, flushes and exits. A second signal kills the process with the
// default action. The flag is a lock-free atomic: safe from signal handlers and
// any thread.
#pragma once

namespace ev {

// Installs the SIGINT/SIGTERM handlers and ignores SIGPIPE (EPIPE arrives as a value).
void install_signal_handlers();
bool stop_requested();
// The signal that requested the stop (SIGINT, SIGTERM) or 0.
int stop_signal();
// For tests and for programs that end themselves (e.g. an --until bound).
void request_stop(int sig);
void clear_stop();

}  // namespace ev
