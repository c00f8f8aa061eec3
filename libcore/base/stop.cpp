#include "libcore/base/stop.h"

#include <signal.h>

#include <atomic>

namespace ev {
namespace {
std::atomic<int> g_signal{0};

void on_signal(int sig) {
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, sig)) {
    // Second signal: the user insists. Die with the default action.
    signal(sig, SIG_DFL);
    raise(sig);
  }
}
}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking reads return EINTR so the stop is seen
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() { return g_signal.load(std::memory_order_relaxed) != 0; }
int stop_signal() { return g_signal.load(std::memory_order_relaxed); }
void request_stop(int sig) { g_signal.store(sig, std::memory_order_relaxed); }
void clear_stop() { g_signal.store(0, std::memory_order_relaxed); }

}  // namespace ev
