#include "daemon/cli.hpp"

int main(int argc, char** argv) { return casemail::daemon::run_cli(argc, argv); }
