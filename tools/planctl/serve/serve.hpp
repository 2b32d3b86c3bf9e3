// planctl serve: the verb's registration (cli_serve.cpp); main.cpp calls it.
#pragma once

#include "../context.hpp"

namespace planctl {

void add_serve_verb(CLI::App& app, Context& context, Verbs& verbs);

}  // namespace planctl
