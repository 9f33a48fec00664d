// The shell side of completion: each script hands the words typed so far to `dsa __complete` and turns
// its answer (candidates, then `:<directive>`, see complete.ts) into the shell's own completion. No
// completion rule lives here.
import { COMPLETE_COMMAND, Directive } from './complete.js';

export const SHELL_NAMES = ['bash', 'zsh', 'fish'] as const;
export type ShellName = (typeof SHELL_NAMES)[number];

const D = Directive;

/**
 * bash ≥ 4, without the bash-completion package. The words come from COMP_LINE up to the cursor rather
 * than COMP_WORDS, which bash splits at `=` and `:` (COMP_WORDBREAKS); candidates are then cut back
 * to the part bash sees as the current word.
 */
function bash(bin: string): string {
  return `# bash completion for ${bin}                               -*- shell-script -*-
# Load it in this shell:      source <(${bin} completion bash)
# Load it in every new shell: echo 'source <(${bin} completion bash)' >> ~/.bashrc

__${bin}_complete() {
    local line=\${COMP_LINE:0:COMP_POINT}
    local -a words
    read -r -a words <<< "$line"
    # A trailing blank starts a new, still empty word.
    [[ "$line" =~ [[:space:]]$ ]] && words+=("")
    [[ \${#words[@]} -lt 2 ]] && words+=("")
    local cur=\${words[\${#words[@]}-1]}
    local out directive
    out=$("\${words[0]}" ${COMPLETE_COMMAND} "\${words[@]:1}" 2>/dev/null) || return
    directive=\${out##*:}
    out=\${out%:*}
    [[ "$directive" =~ ^[0-9]+$ ]] || directive=0
    (( directive & ${D.Error} )) && return
    # bash replaces only what follows the last COMP_WORDBREAKS character.
    local bashcur=\${COMP_WORDS[COMP_CWORD]}
    [[ "$bashcur" == "=" || "$bashcur" == ":" ]] && bashcur=""
    local strip=\${cur%"$bashcur"}
    COMPREPLY=()
    if (( directive & ${D.FilterFileExt} )); then
        local ext
        compopt -o filenames 2>/dev/null
        while IFS= read -r ext; do
            [[ -n "$ext" ]] && COMPREPLY+=($(compgen -f -X "!*.$ext" -- "$cur"))
        done <<< "$out"
        COMPREPLY+=($(compgen -d -- "$cur"))
        return
    fi
    local candidate
    while IFS= read -r candidate; do
        candidate=\${candidate%%$'\\t'*}
        [[ -z "$candidate" ]] && continue
        COMPREPLY+=("\${candidate#"$strip"}")
    done <<< "$out"
    (( directive & ${D.NoSpace} )) && compopt -o nospace 2>/dev/null
    (( directive & ${D.NoFileComp} )) && compopt +o default 2>/dev/null
    return 0
}
complete -o default -F __${bin}_complete ${bin}
`;
}

/** zsh: candidates with their descriptions through _describe; file names through _files. */
function zsh(bin: string): string {
  return `#compdef ${bin}
# zsh completion for ${bin}
# Load it in this shell:      source <(${bin} completion zsh)
# Or install it:              ${bin} completion zsh > "\${fpath[1]}/_${bin}"   (then restart zsh)

_${bin}() {
    local -a args lines candidates
    local out directive line word desc
    args=("\${(@)words[2,CURRENT]}")
    out=$(\${words[1]} ${COMPLETE_COMMAND} "\${(@)args}" 2>/dev/null) || return 1
    lines=("\${(@f)out}")
    directive=\${lines[-1]#:}
    [[ "$directive" == <-> ]] || directive=0
    lines=("\${(@)lines[1,-2]}")
    (( directive & ${D.Error} )) && return 1
    if (( directive & ${D.FilterFileExt} )); then
        _files -g "*.(\${(j:|:)lines})"
        return
    fi
    for line in "\${lines[@]}"; do
        [[ -z "$line" ]] && continue
        word=\${line%%$'\\t'*}
        desc=\${line#*$'\\t'}
        [[ "$desc" == "$line" ]] && desc=""
        candidates+=("\${word//:/\\\\:}\${desc:+:$desc}")
    done
    if (( \${#candidates} )); then
        if (( directive & ${D.NoSpace} )); then
            _describe -t ${bin} '${bin}' candidates -S ''
        else
            _describe -t ${bin} '${bin}' candidates
        fi
    elif (( ! (directive & ${D.NoFileComp}) )); then
        _files
    fi
}

if [[ "\${funcstack[1]}" == "_${bin}" ]]; then
    _${bin} "$@"
else
    compdef _${bin} ${bin}
fi
`;
}

/** fish: descriptions are native (`value<TAB>description`). */
function fish(bin: string): string {
  return `# fish completion for ${bin}
# Load it in this shell: ${bin} completion fish | source
# Install it:            ${bin} completion fish > ~/.config/fish/completions/${bin}.fish

function __${bin}_complete
    set -l args (commandline -opc)[2..-1] (commandline -ct)
    set -l out (command ${bin} ${COMPLETE_COMMAND} $args 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    string match -qr '^[0-9]+$' -- $directive; or set directive 0
    set -e out[-1]
    if test (math "bitand($directive, ${D.Error})") -ne 0
        return
    end
    if test (math "bitand($directive, ${D.FilterFileExt})") -ne 0
        for f in (__fish_complete_path (commandline -ct))
            set -l p (string replace -r '\\t.*$' '' -- $f)
            if string match -q -- '*/' $p
                echo $p
            else
                for ext in $out
                    string match -q -- "*.$ext" $p; and echo $p
                end
            end
        end
        return
    end
    if test (count $out) -eq 0; and test (math "bitand($directive, ${D.NoFileComp})") -eq 0
        __fish_complete_path (commandline -ct)
        return
    end
    printf '%s\\n' $out
end

complete -c ${bin} -e
complete -c ${bin} -f -a '(__${bin}_complete)'
`;
}

export function completionScript(shell: ShellName, bin = 'dsa'): string {
  if (!/^[A-Za-z0-9_-]+$/.test(bin)) throw new Error(`unsafe program name ${JSON.stringify(bin)}`);
  return { bash, zsh, fish }[shell](bin);
}
