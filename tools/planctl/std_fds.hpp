// planctl: the standard descriptors 0, 1 and 2 when planctl starts with one of
// them closed (`<&-`, `>&-`). A closed one is reopened on /dev/null before
// anything else opens a file, so the store's files can never become fd 0/1/2
// (printing would then write into data.mdb), and is remembered: reading a
// closed stdin or writing to a closed stdout is an error, never silence.
#pragma once

namespace planctl {

// REQUIRES: called first thing in main, before any file is opened.
void guard_standard_fds() noexcept;
bool stdin_was_closed() noexcept;
bool stdout_was_closed() noexcept;

}  // namespace planctl
