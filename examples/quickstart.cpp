// quickstart — walks the seed README's flow over an embedded store and prints
// what happened. Usage: quickstart [STORE_DIR]   (default ./.planning-demo)
#include <iostream>

#include <planning/planning.hpp>

namespace {

template <typename T>
T check(planning::Result<T> result, const char* what) {
  if (!result) {
    std::cerr << what << " failed: " << planning::to_string(result.error().code) << ": "
              << result.error().message << "\n";
    std::exit(1);
  }
  return std::move(*result);
}

}  // namespace

int main(int argc, char** argv) {
  planning::Options options;
  options.path = argc > 1 ? argv[1] : ".planning-demo";
  options.logger = [](planning::LogLevel level, std::string_view message) {
    std::cerr << "[" << planning::to_string(level) << "] " << message << "\n";
  };
  auto manager = check(planning::SessionManager::open(options), "open");

  manager->signals().any.connect([](const planning::Event& e) {
    std::cout << "  event #" << e.sequence << " " << planning::to_string(e.type) << "\n";
  });

  std::cout << "Creating a planning session\n";
  auto session = check(manager->create({.title = "Authentication System Planning",
                                        .description = "Design OAuth2 implementation",
                                        .repository_path = "/projects/auth-service",
                                        .initial_content = "# Auth System\n\n## Requirements\n",
                                        .created_by = "agent:planning-assistant",
                                        .metadata = {{"priority", "high"}}}),
                       "create");
  std::cout << "Created session: " << session.id << " (version " << session.current_version
            << ")\n";

  planning::UpdateRequest update;
  update.content = "# Auth System\n\n## Requirements\n- OAuth2 login\n- Token refresh\n";
  update.change_summary = "Added OAuth2 requirements";
  update.updated_by = "agent:planning-assistant";
  session = check(manager->update(session.id, update), "update");
  std::cout << "New version: " << session.current_version << "\n";

  session = check(manager->pause(session.id, "Waiting for stakeholder feedback"), "pause");
  session = check(manager->resume(session.id), "resume");

  for (const auto& v : check(manager->get_versions(session.id), "get_versions")) {
    std::cout << "v" << v.version_number << ": " << v.change_summary << "\n";
  }
  auto diff = check(manager->compare_versions(session.id, 1, 2), "compare_versions");
  std::cout << "Lines added: " << diff.lines_added << ", removed: " << diff.lines_removed << "\n"
            << diff.unified;

  session = check(manager->restore_version(session.id, 1, "user:john"), "restore_version");
  std::cout << "Restored; now at version " << session.current_version << "\n";

  session = check(manager->mark_converted(session.id, {.project_id = "project-123",
                                                       .work_item_ids = {"wi-1", "wi-2", "wi-3"},
                                                       .converted_by = "agent:work-item-creator"}),
                  "mark_converted");
  session = check(manager->archive(session.id), "archive");
  std::cout << "Final status: " << planning::to_string(session.status) << "\n";

  auto stats = check(manager->get_statistics(), "get_statistics");
  std::cout << "Total sessions: " << stats.total_sessions << "\nActive: " << stats.active_sessions
            << "\nArchived: " << stats.archived_sessions
            << "\nAverage versions per session: " << stats.average_versions_per_session << "\n";

  auto report = check(manager->verify(), "verify");
  std::cout << "verify: " << report.events_checked << " events, "
            << (report.ok() ? "log and projections consistent" : "MISMATCH") << "\n";
  return report.ok() ? 0 : 1;
}
