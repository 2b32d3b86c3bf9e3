// planning/planning.hpp — start here: the one header an embedder includes.
//
//   auto manager = planning::SessionManager::open({.path = "./.planning"});
//   if (!manager) { /* manager.error().code, manager.error().message */ }
//   auto session = (*manager)->create({.title = "Auth System Planning"});
//
// See README.md for a tour and docs/FORMAT.md for the on-disk format.
#pragma once

#include <planning/batch.hpp>
#include <planning/events.hpp>
#include <planning/json.hpp>
#include <planning/json_parse.hpp>
#include <planning/model.hpp>
#include <planning/options.hpp>
#include <planning/projection.hpp>
#include <planning/queries.hpp>
#include <planning/recovery.hpp>
#include <planning/requests.hpp>
#include <planning/result.hpp>
#include <planning/salvage.hpp>
#include <planning/session_manager.hpp>
#include <planning/signals.hpp>
#include <planning/version.hpp>
