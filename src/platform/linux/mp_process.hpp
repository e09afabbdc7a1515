// platform/linux/mp_process.hpp — what multiprocessing's Process and its start methods need from
// the kernel beyond fork and the pidfd calls of spawn.hpp: pidfd_open, the parent-death signal,
// fds passed over a UNIX socket (SCM_RIGHTS), the fork server's SIGCHLD signalfd, and where a
// function lives in the loaded modules (its module's name and its offset there).
// Like everything under platform/, these never throw: they return a value, 0 or -errno.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace trident::platform {

/// pidfd_open(pid): a close-on-exec pidfd, or -errno.
int pidfd_open_pid(int pid) noexcept;
/// prctl(PR_SET_PDEATHSIG, sig): the calling process gets `sig` when the thread that created it
/// exits. 0 or -errno.
int set_parent_death_signal(int sig) noexcept;
/// Whether the calling thread is the process's initial thread (gettid() == getpid()).
bool is_initial_thread() noexcept;

/// Sends `data[0, size)` on the stream socket `sock` with `fds[0, nfds)` attached to its first
/// byte (SCM_RIGHTS), all of it, restarting after EINTR; MSG_NOSIGNAL (a gone peer is -EPIPE).
/// 0 or -errno.
int send_with_fds(int sock, const void* data, std::size_t size, const int* fds, std::size_t nfds) noexcept;
/// Receives exactly `size` bytes from `sock`, and the fds attached to them (close-on-exec) into
/// `fds[0, max_fds)`, their count in `nfds`. Returns `size`, 0 at end of stream before any byte,
/// or -errno (-EPROTO when the stream ended mid-message or carried more fds than `max_fds`).
long recv_with_fds(int sock, void* data, std::size_t size, int* fds, std::size_t max_fds, std::size_t& nfds) noexcept;
/// Whether `fd` is open (fcntl F_GETFD).
bool fd_is_open(int fd) noexcept;
/// Clears FD_CLOEXEC on `fd`. 0 or -errno.
int clear_cloexec(int fd) noexcept;

/// Where `address` lies among the loaded modules: the module's name as the dynamic loader knows
/// it ("" for the program itself) and the offset from that module's load address. 0, or -ENOENT
/// when no loaded module contains it.
int code_location(std::uintptr_t address, std::string& module, std::uintptr_t& offset) noexcept;
/// The address at `offset` in module `module` ("" = the program), loading the module (dlopen) if
/// this process has not; checks that the address lies in an executable segment. 0 or -errno.
int code_address(const std::string& module, std::uintptr_t offset, std::uintptr_t& address) noexcept;

/// For the fork server: blocks SIGCHLD and returns a non-blocking signalfd for it (-errno), and
/// undoes that in a child (restores the mask and SIGINT's default disposition).
int block_sigchld_signalfd() noexcept;
void unblock_sigchld() noexcept;
/// Drains the signalfd `fd` (non-blocking).
void drain_signalfd(int fd) noexcept;
/// SIGINT ignored (the fork server must not die of the terminal's ^C before its children do).
void ignore_sigint() noexcept;

}  // namespace trident::platform
