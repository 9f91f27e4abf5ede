#include "daemon/cli/cli.hpp"

int main(int argc, char** argv) { return casemail::cli::run_cli(argc, argv); }
