// Process directory: /proc-based liveness on one host, "unknown" elsewhere.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hddnn/comm/process_directory.hpp"
#include "hddnn/errors.hpp"

namespace {

using namespace hddnn;
using namespace hddnn::comm;

// A child that has exited and been reaped: its pid no longer names a process.
int64_t reaped_child_pid() {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

TEST(ProcessDirectory, SelfIsAliveOtherHostUnknownReapedDead) {
  auto me = ProcessDirectory::self();
  EXPECT_GT(me.start_ticks, 0u);
  ProcessDirectory::Entry elsewhere{me.hostname + "-other", me.pid, me.start_ticks};
  ProcessDirectory::Entry gone{me.hostname, reaped_child_pid(), 1};
  ProcessDirectory directory(0, {me, elsewhere, gone});
  EXPECT_EQ(directory.peer_process_alive(0), ProcessLiveness::kAlive);
  EXPECT_EQ(directory.peer_process_alive(1), ProcessLiveness::kUnknown);
  EXPECT_EQ(directory.peer_process_alive(2), ProcessLiveness::kDead);
  EXPECT_EQ(to_string(ProcessLiveness::kUnknown), "unknown");
}

TEST(ProcessDirectory, ReusedPidWithOtherStartTimeIsDead) {
  auto me = ProcessDirectory::self();
  ProcessDirectory::Entry reused{me.hostname, me.pid, me.start_ticks + 1};
  ProcessDirectory directory(0, {me, reused});
  EXPECT_EQ(directory.peer_process_alive(1), ProcessLiveness::kDead);
}

TEST(ProcessDirectory, RankOutsideThrows) {
  ProcessDirectory directory(0, {ProcessDirectory::self()});
  EXPECT_THROW(directory.peer_process_alive(1), CommError);
  EXPECT_THROW(directory.peer_process_alive(-1), CommError);
}

}  // namespace
