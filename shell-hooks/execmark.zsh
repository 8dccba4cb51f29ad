# SPDX-License-Identifier: MIT
# execmark session hook for zsh. Installed as /etc/execmark/hook.zsh by `execmark hook install`,
# which sources it from zsh's global zshrc (/etc/zsh/zshrc on Debian, Ubuntu and Alpine,
# /etc/zshrc on Amazon Linux and Fedora).
#
# Recording: the first interactive shell of a session on a terminal (EXECMARK_ACTIVE and
# EXECMARK_RECORD unset, stdin a terminal, the binary there) is replaced, with `exec`, by the
# recorder running the same zsh (its executable resolved from /proc/$$/exe):
# `execmark shell --mode hook -- ZSH -i`. The recorder sets EXECMARK_RECORD first, so this happens
# once per session and never loops. When PID 1 records the session, the zsh under the recorder has
# EXECMARK_ACTIVE set and this hook stays quiet (the recorder writes open and close); when it
# cannot, the recorder execs the same zsh again, unrecorded, and the hook goes on as follows.
#
# In an interactive shell that is not already inside an execmark session (EXECMARK_ACTIVE unset),
# and only when the execmark binary exists, it prints the signed session banner
# (`execmark session open --mode hook`), exports EXECMARK_ACTIVE=1 so that nested shells stay
# quiet, and writes the close marker with the shell's exit status from the zshexit hook array
# (zshexit_functions), which leaves the user's TRAPEXIT, `trap ... EXIT` and zshexit alone.
#
# Contract: defines one function, _execmark_hook, adds it to zshexit_functions, and sets no
# variable but EXECMARK_ACTIVE; prints nothing of its own; leaves $?, PS1 and the shell options as
# they were (emulate -L inside the function; under ERR_EXIT a failed status is not carried over);
# `session open` has its own deadline and always succeeds.
# Limits (unrecorded sessions; a recorded session's close is the recorder's): zsh runs no
# zshexit hook after `exec` or a hangup, nor when a later assignment replaces
# zshexit_functions; the agent's session watcher still records the end of the session (exec.gone).
# The binary: $EXECMARK_BIN_PATH, else the path below (set by `hook install --bin`), else PATH.

# `case`, not `if`: an `if` test would replace the $? that is to be preserved. The rc-file block
# of `hook install` saves $? in _execmark_hook_status before its own test of the file.
case $- in
*i*)
    _execmark_hook_status=${_execmark_hook_status-$?}

    _execmark_hook() {
        # First: as a zshexit hook (called without arguments) $? is the shell's exit status; and
        # ERR_EXIT as the user has it, before emulate resets the options for this function.
        local _execmark_rc=$? _execmark_errexit=0
        [[ -o errexit ]] && _execmark_errexit=1
        emulate -L zsh
        local _execmark_bin=${EXECMARK_BIN_PATH:-/usr/local/bin/execmark}
        if [[ ! -x $_execmark_bin ]]; then
            _execmark_bin=${commands[execmark]-}
        fi
        case ${1-close} in
        record)
            [[ -n $_execmark_bin && -z ${EXECMARK_RECORD+set} && -t 0 && -r /proc/$$/exe ]] \
                || return 0
            exec "$_execmark_bin" shell --mode hook -- ${${:-/proc/$$/exe}:A} -i
            ;;
        open)
            # No binary, no session: no banner, no guard, no exit hook.
            [[ -n $_execmark_bin ]] || return 0
            "$_execmark_bin" session open --mode hook || :
            export EXECMARK_ACTIVE=1
            typeset -ga zshexit_functions
            zshexit_functions+=(_execmark_hook)
            ;;
        close)
            [[ -n $_execmark_bin ]] && { "$_execmark_bin" session close --rc $_execmark_rc || :; }
            return $_execmark_rc
            ;;
        status)
            # Returns $2, the status to preserve; 0 under ERR_EXIT, where a failure would exit.
            unset _execmark_hook_status
            (( _execmark_errexit )) && return 0
            return $2
            ;;
        esac
        return 0
    }

    if [[ -z ${EXECMARK_ACTIVE+set} ]]; then
        _execmark_hook record
        _execmark_hook open
    fi
    _execmark_hook status "$_execmark_hook_status"
    ;;
esac
