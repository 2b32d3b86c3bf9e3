// planctl serve: the verb — options, the loopback / token rule, the store
// opened read-only, then the server (server.hpp) until SIGINT or SIGTERM.
#include <cctype>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "../context.hpp"
#include "serve.hpp"
#include "server.hpp"

namespace planctl {
namespace {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string token;
  CLI::Option* token_opt = nullptr;
};

// Tokens are cookie- and header-safe and long enough not to be guessed.
void check_token(const std::string& token) {
  if (token.size() < 16) fail(Exit::usage, "--token: at least 16 characters");
  for (const char c : token)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '~'))
      fail(Exit::usage, "--token: only letters, digits and - _ . ~");
}

Exit run_serve(Context& context, const ServeOptions& o) {
  const auto listen = serve::parse_listen(o.listen);
  if (o.token_opt->count() > 0) check_token(o.token);
  if (!serve::is_loopback(listen.host) && o.token.empty())
    fail(Exit::usage, fmt::format("--listen {}: not a loopback address, so --token is required "
                                  "(anyone who can reach the port could read every session)",
                                  o.listen));
  // Access::read: MDB_RDONLY, the server cannot change a byte of the store.
  auto& store = context.store(Access::read);
  return serve::run_console(store, listen, o.token);
}

}  // namespace

void add_serve_verb(CLI::App& app, Context& context, Verbs& verbs) {
  auto* cmd = app.add_subcommand(
      "serve", "Serve a read-only web console (and a JSON API under /api/) over the store");
  auto o = std::make_shared<ServeOptions>();
  cmd->add_option("--listen", o->listen,
                  "Address to listen on (default 127.0.0.1:8080; port 0 picks a free one)")
      ->type_name("ADDR:PORT");
  o->token_opt = cmd->add_option("--token", o->token,
                                 "Require this token on every request (required for a "
                                 "non-loopback --listen)")
                     ->type_name("TOKEN");
  add_verb(verbs, cmd, context, o, run_serve);
}

}  // namespace planctl
