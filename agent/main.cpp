// SPDX-License-Identifier: MIT
#include <agent/cli/cli.hpp>

int main(int argc, char** argv)
{
    return execmark::cli::run(argc, argv);
}
