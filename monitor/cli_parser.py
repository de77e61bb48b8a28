"""An argparse parser that speaks Chinese to staff: usage, help headings and errors.

argparse builds its messages in English (through gettext, with no Chinese catalogue). This subclass
translates the common error forms — a required argument missing, an unknown choice, an unrecognised
argument, an option without its value, a value of the wrong type — and prints them as one line,
`错误：<prog>：<reason>`, then exits with code 2, as argparse does. Anything it does not recognise is
printed unchanged rather than dropped.

It depends on nothing but the standard library; every `python -m <package>` entry point uses it (their
__main__ modules may import monitor; the collectors and sentiment libraries themselves do not).
"""
from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

EXIT_USAGE = 2

# argparse's wording (Python 3.11–3.13) → Chinese. Argument names stay as typed (--date, --out).
_ARG = r"argument (?P<arg>[^:]+): "
_FORMS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^the following arguments are required: (?P<args>.+)$"), "缺少必需的参数：{args}"),
    (re.compile(r"^one of the arguments (?P<args>.+) is required$"), "以下参数必须给出其中一个：{args}"),
    (re.compile(r"^unrecognized arguments: (?P<args>.+)$"), "无法识别的参数：{args}"),
    (re.compile(_ARG + r"invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)$"),
     "{arg}不能是 {value}（可选：{choices}）"),
    (re.compile(_ARG + r"expected one argument$"), "{arg} 后面需要一个值"),
    (re.compile(_ARG + r"expected at most one argument$"), "{arg} 后面最多一个值"),
    (re.compile(_ARG + r"expected at least one argument$"), "{arg} 后面至少需要一个值"),
    (re.compile(_ARG + r"expected (?P<n>\d+) arguments?$"), "{arg} 后面需要 {n} 个值"),
    (re.compile(_ARG + r"invalid (?P<type>\w+) value: (?P<value>.+)$"), "{arg} 的值 {value} 无效（应为{type}）"),
    (re.compile(_ARG + r"not allowed with argument (?P<other>.+)$"), "{arg} 不能与 {other} 同时使用"),
    (re.compile(_ARG + r"ignored explicit argument (?P<value>.+)$"), "{arg} 不接受值 {value}"),
    (re.compile(r"^ambiguous option: (?P<opt>\S+) could match (?P<matches>.+)$"),
     "选项 {opt} 有歧义，可能是：{matches}"),
    # last: a type function's own message (ArgumentTypeError, already in Chinese) after the argument name
    (re.compile(_ARG + r"(?P<rest>.+)$"), "{arg}：{rest}"),
]
_TYPES = {"int": "整数", "float": "数字", "str": "文本"}
_HEADINGS = {"positional arguments": "位置参数", "options": "选项", "optional arguments": "选项"}


def translate(message: str, *, subcommand_dest: str | None = None) -> str:
    """argparse's English error `message` in Chinese; unknown forms are returned unchanged."""
    for pattern, template in _FORMS:
        m = pattern.match(message.strip())
        if not m:
            continue
        parts = m.groupdict()
        if "arg" in parts:
            arg = parts["arg"].strip()
            parts["arg"] = "子命令" if arg == subcommand_dest or arg.startswith("{") else f"参数 {arg}"
        for key in ("args", "choices", "matches"):
            if key in parts:
                parts[key] = _names(parts[key], subcommand_dest)
        if "type" in parts:
            parts["type"] = _TYPES.get(parts["type"], parts["type"])
        # a space after an option name before Chinese text (参数 --role 不能是…), none after 子命令
        return re.sub(r"(参数 [-A-Za-z0-9_]+)(?=[\u4e00-\u9fff])", r"\1 ", template.format(**parts))
    return message


def _names(text: str, subcommand_dest: str | None) -> str:
    """"--date, --out" → "--date、--out"; a subcommand ("command" or "{a,b}") → "子命令（a、b）"."""
    out = []
    for m in re.finditer(r"\{[^}]*\}|[^,]+", text):
        name = m.group(0).strip().strip("'\"")
        if name.startswith("{"):
            name = f"子命令（{'、'.join(x.strip() for x in name[1:-1].split(','))}）"
        elif name == subcommand_dest:
            name = "子命令"
        if name:
            out.append(name)
    return "、".join(out)


class ChineseArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` with Chinese help headings and one-line Chinese errors (exit 2).

    Subparsers made with `add_subparsers(...)` are of the same class unless told otherwise.
    """

    def __init__(self, *args, **kwargs):
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        for group in self._action_groups:
            group.title = _HEADINGS.get(group.title, group.title)
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def add_subparsers(self, **kwargs):
        kwargs.setdefault("parser_class", type(self))
        kwargs.setdefault("title", "子命令")
        self._subcommand_dest = kwargs.get("dest")
        return super().add_subparsers(**kwargs)

    def format_usage(self) -> str:
        return super().format_usage().replace("usage: ", "用法：", 1)

    def format_help(self) -> str:
        text = super().format_help().replace("usage: ", "用法：", 1)
        for heading in {*_HEADINGS.values(), "子命令"}:
            text = text.replace(f"\n{heading}:\n", f"\n{heading}：\n")
        return text

    def error(self, message: str) -> NoReturn:
        text = translate(message, subcommand_dest=getattr(self, "_subcommand_dest", None) or "command")
        self.exit(EXIT_USAGE, f"错误：{self.prog}：{' '.join(text.split())}\n")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, end="" if message.endswith("\n") else "\n", file=sys.stderr, flush=True)
        raise SystemExit(status)


__all__ = ["ChineseArgumentParser", "translate", "EXIT_USAGE"]
