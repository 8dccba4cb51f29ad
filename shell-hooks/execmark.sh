# SPDX-License-Identifier: MIT
# execmark session hook for POSIX shells: bash, dash, busybox ash, mksh (and bash run as sh).
# Installed as /etc/execmark/hook.sh by `execmark hook install`, which sources it from bash's
# system rc file; dash, ash and mksh read it through ENV, which the image sets (Dockerfile:
# ENV ENV=/etc/execmark/hook.sh).
#
# Recording: the first interactive shell of a session on a terminal (EXECMARK_ACTIVE and
# EXECMARK_RECORD unset, stdin a terminal, the binary there) is replaced, with `exec`, by the
# recorder running the same shell: `execmark shell --mode hook -- SHELL -i` (bash: $BASH; dash,
# busybox ash, mksh: the shell's own executable, /proc/$$/exe passed as descriptor 9, with $0 as
# its argv[0], so busybox runs its `sh` applet). The recorder sets EXECMARK_RECORD first, so this
# happens once per session and never loops. When PID 1 records the session, the shell under the
# recorder has EXECMARK_ACTIVE set and this hook stays quiet (the recorder writes open and
# close); when it cannot (no agent within the deadline, refused, not the session's command), the
# recorder execs the same shell again, unrecorded, and the hook goes on as follows.
#
# In an interactive shell that is not already inside an execmark session (EXECMARK_ACTIVE unset),
# and only when the execmark binary exists, it prints the signed session banner
# (`execmark session open --mode hook`), exports EXECMARK_ACTIVE=1 so that nested shells stay
# quiet, and writes the close marker with the shell's exit status from an EXIT trap. An EXIT trap
# that is already set is kept: it runs right after the close marker (bash and busybox ash; dash and
# mksh cannot show a trap to the hook, but read ENV before anything else could have set one).
#
# Contract: defines one function, _execmark_hook, and no variable but EXECMARK_ACTIVE; prints
# nothing of its own; leaves $?, PS1 and the shell options as they were (under `set -e` a failed
# status is not carried over, so that it cannot end the shell); `session open` has its own
# deadline and always succeeds, so the shell starts even when the agent is gone.
# Limits (unrecorded sessions; a recorded session's close is the recorder's): a `trap ... EXIT`
# set later replaces the close trap, and `exec` or a hangup skip it; the
# agent's session watcher still records the end of the session (exec.gone).
# The binary: $EXECMARK_BIN_PATH, else the path below (set by `hook install --bin`), else PATH.

# `case`, not `if`: an `if` test would replace the $? that is to be preserved. The rc-file block
# of `hook install` saves $? in _execmark_hook_status before its own test of the file.
case $- in
*i*)
    _execmark_hook_status=${_execmark_hook_status-$?}

    _execmark_hook() {
        case $1 in
        open)
            # No binary, no session: no banner, no guard, no trap.
            _execmark_hook run session open --mode hook || return 0
            EXECMARK_ACTIVE=1
            export EXECMARK_ACTIVE
            _execmark_hook trap
            ;;
        close)
            _execmark_hook run session close --rc "$2" || :
            _execmark_hook status "$2"
            ;;
        trap)
            # `trap` prints the traps as words for re-input (trap -- ACTION SIGNAL); keep an
            # existing EXIT action after ours. Shells that print nothing here get ours alone.
            eval "set -- $(trap)"
            while [ "$#" -ge 4 ]; do
                # An action of ours (the hook sourced again after an unset guard) is replaced.
                if [ "$4" = EXIT ] && [ "${3#_execmark_hook close}" = "$3" ]; then
                    # shellcheck disable=SC2064 # the user's action is to be expanded now
                    trap "_execmark_hook close \"\$?\"
$3" EXIT
                    return 0
                fi
                shift 4
            done
            trap '_execmark_hook close "$?"' EXIT
            ;;
        run)
            # Returns 1 only when there is no binary; execmark's own status is not ours to pass on.
            shift
            if [ -x "${EXECMARK_BIN_PATH:-/usr/local/bin/execmark}" ]; then
                "${EXECMARK_BIN_PATH:-/usr/local/bin/execmark}" "$@" || :
            elif command -v execmark >/dev/null 2>&1; then
                command execmark "$@" || :
            else
                return 1
            fi
            ;;
        status)
            # Returns $2, the status to preserve; 0 under set -e, where a failure would exit.
            unset _execmark_hook_status
            case $- in
            *e*) return 0 ;;
            esac
            return "$2"
            ;;
        esac
    }

    if [ -z "${EXECMARK_ACTIVE+set}" ]; then
        # Recording (see the header). Its own function, not a case of _execmark_hook, whose body
        # bash copies at every call; unset if it returns (no binary to exec).
        if [ -z "${EXECMARK_RECORD+set}" ] && [ -t 0 ] && [ -r "/proc/$$/exe" ]; then
            _execmark_record() {
                set -- "${EXECMARK_BIN_PATH:-/usr/local/bin/execmark}"
                if [ ! -x "$1" ]; then
                    set -- "$(command -v execmark)"
                    [ -n "$1" ] || return 0
                fi
                if [ -n "${BASH_VERSION-}" ]; then
                    exec "$1" shell --mode hook -- "$BASH" -i
                fi
                exec "$1" shell --mode hook --shell-fd 9 -- "${0#-}" -i 9<"/proc/$$/exe"
            }
            _execmark_record
            unset -f _execmark_record
        fi
        _execmark_hook open
    fi
    _execmark_hook status "$_execmark_hook_status"
    ;;
esac
