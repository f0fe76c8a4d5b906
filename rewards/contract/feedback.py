"""The one feedback message a model sees after an attempt: built here, used by GRPO, eval and `generate`.

Why one owner: the model is trained (multi-turn GRPO, refinement SFT) on exactly the text it will later read
in `eval --turns` and `tritonforge generate`; two builders would drift and the trained skill would not
transfer. Why sanitised: the verdict's `log` mixes what helps a kernel engineer (the compiler's message, the
candidate's own traceback frames, how many elements are off and by how much) with what would let a model
fit the judge instead of the task:

- the candidate's own stdout/stderr (a kernel can print its trial inputs; they would come back as feedback),
- values of the trial's inputs or of the expected outputs (a printed tensor, an exception message built from
  an input, the expected value of a scalar output: a model could copy them into its next answer),
- the judge's internals (its own stack frames, file paths, trial indices, the calibration of its bounds).

So every message is rebuilt from the verdict's structured fields plus the few log lines that are the
toolchain's own words (the last traceback's exception and the frames in the candidate's file, the parser's
message, the first mismatch line), and runs of numbers or tensor reprs are withheld. `feedback_message` is
a pure function of the verdict: the same result always gives the same text.

Every kept line is also text the candidate may have written (an exception message is any string it raises; a
"traceback" it printed to stderr is the last one in the log; a forged supervisor report sets `error_type` and
the names quoted in runtime findings). So `_untrusted` makes any such text inert, by mechanism, not by phrase:
terminal and format control characters are dropped, chat-template control tokens (`<|...|>`) are broken,
code fences cannot be closed from inside (so a forged "Verification passed" line stays inside the quoted
block), absolute paths (the sandbox's, the host's) are withheld, and so is every non-integer number (input
and output values are floats; the messages a kernel engineer needs name shapes, sizes and lines: integers).
The message is bounded: a line, a detail block, and the number of findings listed all have caps.
"""

from __future__ import annotations

import re
import unicodedata

from rewards.contract.types import Status, VerifyResult

FEEDBACK_LINE_CHARS = 300  # one line of compiler output or exception message, at most
FEEDBACK_DETAIL_CHARS = 1500  # the whole detail block, at most (tail kept: the exception is at the end)
FEEDBACK_FINDINGS = 8  # rule findings listed, at most (then how many more)
CANDIDATE_FILE = "candidate.py"  # the name the sandbox compiles the candidate's source under
WITHHELD = "<values withheld>"

RETRY_INSTRUCTION = (
    "Fix the problem and answer again with the complete corrected code (class ModelNew and its Triton "
    "kernels) in one ```python block."
)
FASTER_INSTRUCTION = (
    "Make it faster if you can, and answer again with the complete code (class ModelNew and its Triton "
    "kernels) in one ```python block."
)

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# Four or more numbers in a row (a printed tensor row, a list of input values): never feedback.
_NUMBER_RUN = re.compile(rf"(?:{_NUMBER}[\s,;\[\]()]+){{3,}}{_NUMBER}")
# Where a tensor/array repr starts; `_drop_reprs` skips to its matching parenthesis.
_REPR_START = re.compile(r"\b(?:tensor|array|Parameter)\s*\(")
# "x != expected 0.5" (a scalar mismatch names the reference's value): keep the fact, not the value.
_EXPECTED_VALUE = re.compile(r":\s*(.*?)\s*!=\s*expected\s+(?!\(|torch\.)(.+?)(\s*\((?:atol|relative).*)?$")
_TRIAL_PREFIX = re.compile(r"^(?:trial \d+ |last timed call's )", re.I)
# The judge's own mismatch reason (rewards.oracle.reference_run); any other first line is the candidate's output.
_JUDGE_REASON = re.compile(r"^(?:trial \d+ |last timed call's )(?:output|input)\S*: ")
_FRAME = re.compile(r'^\s*File "([^"]+)", line \d+')
# Terminal escape sequences (CSI, OSC, two-byte ESC forms, the 8-bit CSI): their bytes are dropped below too,
# but the parameters would stay behind as noise ("[2J").
_ANSI = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
# A chat template's control tokens (ChatML `<|im_end|>`, Llama-3 `<|eot_id|>`, ...) and either half of one: in a
# user turn a tokenizer would read them as the real thing (end the turn, open a forged system/user turn).
_CHAT_TOKEN = re.compile(r"<\|[^\n]{0,80}?\|>|<\||\|>")
_FENCE = re.compile(r"`{3,}")  # would close the block the detail is quoted in
# An absolute (or ~) path of two or more parts: the sandbox's directories, the host's layout, a secret file name.
_PATH = re.compile(r"(?<![\w.:/~])~?(?:/[^\s/'\"`(),;:<>\[\]{}|=]+){2,}/?")
# A number that is not an integer (a value of an input or output; sizes, lines and indices are integers).
# Bounded by digits, not words: "0.19x2.16x..." is as much a list of values as "0.19 2.16 ...".
_NON_INTEGER = re.compile(r"(?<![\d.])[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\d.])"
                          r"|(?<![\w.])[-+]?\d+[eE][-+]?\d+(?![\d.])|\b(?:nan|inf)\b")
# Four or more numbers with nothing but punctuation and spacing between them, across lines (values one a line).
_NUMBER_SPREAD = re.compile(rf"(?<![\w.])(?:{_NUMBER}(?:[^\w\n]+|[^\w\n]*\n[^\w\n]*)){{3,}}{_NUMBER}(?![\w.])")
_ERROR_TYPE = re.compile(r"[A-Za-z_][\w.]{0,79}")


def _printable(text: str) -> str:
    """Text without terminal escapes or control/format characters (NUL, bell, bidi overrides, zero-width
    joiners): what the model reads is what a person reviewing the transcript sees. CR becomes a line break."""
    text = _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(c for c in text if c in "\n\t" or (unicodedata.category(c)[0] != "C"
                                                       and unicodedata.category(c) not in ("Zl", "Zp")))


def _inert(text: str) -> str:
    """Text that cannot act as markup of the conversation: no control characters, chat-template tokens,
    code fences or host paths (judge text may go through this: it changes nothing the judge writes)."""
    text = _FENCE.sub("'" * 3, _CHAT_TOKEN.sub("<token withheld>", _printable(text)))
    return _PATH.sub("<path>", text)


def _untrusted(text: str) -> str:
    """Text the candidate may have written, made inert and stripped of values: non-integer numbers, tensor
    reprs and runs of numbers (within a line or one a line) are withheld, every line clipped."""
    text = _drop_reprs(_inert(text))
    text = _NUMBER_SPREAD.sub(WITHHELD, _NON_INTEGER.sub("<value>", text))
    return redact_values(text)


def _clip(line: str) -> str:
    return line if len(line) <= FEEDBACK_LINE_CHARS else line[:FEEDBACK_LINE_CHARS] + " ..."


def _drop_reprs(text: str) -> str:
    """Replace each `tensor(...)` / `array(...)` repr, nested brackets and line breaks included, by WITHHELD."""
    out, pos = [], 0
    while (m := _REPR_START.search(text, pos)) is not None:
        out.append(text[pos:m.start()])
        depth, i = 0, m.end() - 1
        while i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
            if depth == 0:
                break
        out.append(WITHHELD)
        pos = i
    out.append(text[pos:])
    return "".join(out)


def redact_values(text: str) -> str:
    """Withhold tensor reprs and runs of four or more numbers (input or output values), line by line."""
    text = _drop_reprs(text)
    return "\n".join(_clip(_NUMBER_RUN.sub(WITHHELD, line)) for line in text.splitlines())


def _tail_chars(text: str, limit: int = FEEDBACK_DETAIL_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else "...\n" + text[-limit:]


def exception_report(log: str) -> str:
    """The last traceback of `log` reduced to the candidate's own frames and the exception it ended in.

    Frames of the judge, torch or triton are dropped (they say nothing about the candidate's code and show
    the judge's layout); text outside the traceback (the candidate's prints, warnings) is dropped. A log
    without a traceback (a parser message, a kill notice) keeps its last non-warning lines.
    """
    lines = _printable(log or "").splitlines()
    starts = [i for i, ln in enumerate(lines) if ln.startswith("Traceback (most recent call last)")]
    if not starts:
        kept = [ln for ln in lines if ln.strip() and not _is_noise(ln)]
        return _untrusted("\n".join(kept[-12:]))
    block = lines[starts[-1] + 1:]
    out = ["Traceback (most recent call last):"]
    i = 0
    last_frame_end = 0
    while i < len(block):
        m = _FRAME.match(block[i])
        if m:
            j = i + 1
            while j < len(block) and block[j].startswith("    "):
                j += 1
            if m.group(1).endswith(CANDIDATE_FILE):
                out.extend(block[i:j])
            i = last_frame_end = j
        else:
            i += 1
    exc = [ln for ln in block[last_frame_end:] if ln.strip() and not _is_noise(ln)]
    # The exception's message ends at the first line a candidate's print or a warning could have added:
    # stop at a blank-looking or unindented line after the first one that is not a compiler source excerpt.
    out.extend(exc[:30])
    return _untrusted("\n".join(out))


def _is_noise(line: str) -> bool:
    """Warnings the toolchain prints on every run (not the candidate's doing)."""
    return "Warning:" in line or line.strip().startswith("warn_once(") or line.strip().startswith("warnings.warn(")


def mismatch_report(res: VerifyResult) -> str:
    """What is off, without the judge's trial numbering, calibration or the reference's values."""
    first = next((ln for ln in (res.log or "").splitlines() if ln.strip()), "")
    first = _TRIAL_PREFIX.sub("", first.split("; ")[0].strip()) if _JUDGE_REASON.match(first) else ""
    m = _EXPECTED_VALUE.search(first)
    if m:
        first = first[: m.start()] + ": the value differs from the reference's"
    detail = redact_values(_inert(first)) if first else ""
    err = f"max abs error {res.max_abs_err:.3g}" if res.max_abs_err is not None else ""
    parts = [p for p in (detail, err) if p]
    return "Your kernel ran but its outputs do not match the reference" + (f" ({'; '.join(parts)})." if parts else ".")


def _one_line(text: str) -> str:
    """A finding's rule or message (rule messages quote names out of the candidate's report) as one clipped,
    inert line: a line break inside it would start a line of the judge's own."""
    return _clip(" ".join(_untrusted(text).split()))


def _code_block(text: str) -> str:
    return f"\n```\n{_tail_chars(text)}\n```" if text.strip() else ""


def failure_detail(res: VerifyResult) -> str:
    """The status-specific part of the message: what went wrong, in terms the model can act on."""
    s = res.status
    if s is Status.NO_CODE:
        return "Your answer contained no ```python code block, so there was nothing to run."
    if s is Status.SYNTAX_ERROR:
        return "Your code does not parse (syntax error):" + _code_block(exception_report(res.log))
    if s is Status.RULE_VIOLATION:
        fatal = [f for f in res.rule_findings if f.fatal]
        lines = [f"- {_one_line(f.rule)}{f' (line {f.line})' if isinstance(f.line, int) and f.line else ''}: "
                 f"{_one_line(f.message)}" for f in fatal[:FEEDBACK_FINDINGS]]
        if len(fatal) > FEEDBACK_FINDINGS:
            lines.append(f"- ... and {len(fatal) - FEEDBACK_FINDINGS} more")
        if not lines:  # a runtime rule (the guard raised inside forward): its exception says which
            return "Your code broke a kernel rule while running:" + _code_block(exception_report(res.log))
        return "Your code was rejected by the kernel rules before running:\n" + "\n".join(lines)
    if s is Status.MISMATCH:
        return mismatch_report(res)
    if s is Status.TIMEOUT:
        return "Your code did not finish within the time limit (an infinite loop, or far too slow?)."
    if s is Status.SANDBOX_VIOLATION:
        return ("Your code tried something the sandbox forbids (files, network, processes, reflection):"
                + _code_block(exception_report(res.log)))
    if s is Status.INFRA_ERROR:  # the judge's failure, not the candidate's: nothing of its log is the model's business
        return "The judge could not evaluate your answer this time (not your code's fault)."
    etype = res.error_type if res.error_type and _ERROR_TYPE.fullmatch(res.error_type) else s.value
    label = {Status.COMPILE_ERROR: "failed to compile", Status.RUNTIME_ERROR: "raised an error while running",
             Status.CRASHED: "crashed the process"}.get(s, s.value)
    return f"Your code {label} ({etype}):" + _code_block(exception_report(res.log))


def feedback_message(res: VerifyResult) -> str:
    """The user turn after an attempt: the status, what went wrong (or, if it passed, the measured speedup)
    and what to do next. Never carries trial inputs, expected values, the candidate's prints or judge frames."""
    if res.correct:
        sp = (f" It is {res.speedup:.2f}x the speed of eager PyTorch ({res.timing_method or 'timed'})."
              if res.speedup is not None and not res.implausible_speedup else "")
        return f"Verification passed: your kernel matches the reference.{sp}\n\n{FASTER_INSTRUCTION}"
    return f"Verification failed: status `{res.status.value}`.\n{failure_detail(res)}\n\n{RETRY_INSTRUCTION}"


def refinement_turn(answer: str, res: VerifyResult) -> list[dict[str, str]]:
    """The two chat messages one attempt adds to a refinement conversation: the model's answer, then the
    judge's feedback on it as a user turn (the one shape `generate`, `eval --turns` and refinement data share)."""
    return [{"role": "assistant", "content": answer}, {"role": "user", "content": feedback_message(res)}]
