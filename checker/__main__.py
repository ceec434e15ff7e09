"""Command line: `python -m checker [--catalogue FILE.json] check [--text] PROFILE.json|-`, `python -m checker services --county CODE`,
`python -m checker screen REGISTER.csv|.xlsx -o RESULT.csv|.xlsx [--annex1 LIST]`,
`python -m checker settle SERVED.csv --per-person 75 -o 附件2.xlsx [--annex3 FILE]`.

Exit status 0 on an answer, 2 on bad input (a message in Chinese and English on standard error).
"""
from __future__ import annotations

import argparse
import json
import sys

from . import engine
from .catalogue import CatalogueMissing
from .profile import ProfileError, is_county_code
from .tables import TableError


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"参数有误 / bad arguments: {message}", file=sys.stderr)
        sys.exit(2)


def _read_profile(path: str):
    """The profile as JSON from a file or standard input: UTF-8 (a BOM is allowed in both), any
    other bytes, malformed or absurd JSON (a 5000-digit number, nesting 100,000 deep) refused
    with the file and the line."""
    name = "标准输入 / standard input" if path == "-" else path
    try:
        if path == "-":
            stdin = getattr(sys.stdin, "buffer", None)
            data = stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8", "surrogateescape")
        else:
            with open(path, "rb") as fh:
                data = fh.read()
    except IsADirectoryError:
        raise ProfileError("PROFILE", f"{path} 是一个文件夹，不是文件", f"{path} is a directory, not a file") from None
    except OSError as err:
        raise ProfileError("PROFILE", f"无法读取文件 {path}：{err.strerror}", f"cannot read {path}: {err.strerror}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ProfileError("PROFILE", f"{name} 不是 UTF-8 编码（第{line}行，第{err.start + 1}个字节）；请另存为 UTF-8",
                           f"{name} is not UTF-8 (line {line}, byte {err.start + 1}); save it as UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ProfileError("PROFILE", f"{name} 不是有效的 JSON（第{err.lineno}行第{err.colno}列）：{err.msg}",
                           f"{name} is not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}") from None
    except ValueError as err:  # e.g. an integer of more than 4300 digits
        raise ProfileError("PROFILE", f"{name} 里有无法读取的值（数字太长）：{err}",
                           f"{name} holds a value that cannot be read (a number too long): {err}") from None
    except RecursionError:
        raise ProfileError("PROFILE", f"{name} 嵌套太深，不是一份查询内容", f"{name} is nested too deeply to be a profile") from None


def main(argv=None) -> int:
    parser = _Parser(prog="python -m checker", description="养老服务明白卡：查一查老人能享受哪些养老服务")
    parser.add_argument("--catalogue", default=None, metavar="CATALOGUE.json",
                        help="another compiled catalogue (python -m site_build.catalogue writes one); default: the packaged one")
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="evaluate one profile (JSON file or - for standard input)")
    p_check.add_argument("profile")
    p_check.add_argument("--text", action="store_true", help="print the answer as a person reads it, in the order of its plan")
    p_services = sub.add_parser("services", help="list a county's services as JSON")
    p_services.add_argument("--county", required=True)
    p_screen = sub.add_parser("screen", help="screen a register (CSV or XLSX) for services not yet received")
    p_screen.add_argument("register")
    p_screen.add_argument("-o", "--output", required=True)
    p_screen.add_argument("--as-of", default=None)
    p_screen.add_argument("--annex1", default=None, help="also write 慈溪's 附件1 list (CSV or XLSX)")
    p_screen.add_argument("--county", default=None, help="户籍 for rows that leave it blank (name or code)")
    p_settle = sub.add_parser("settle", help="慈溪 settlement tables (附件2/3) from a list of served elders")
    p_settle.add_argument("served")
    p_settle.add_argument("--per-person", required=True, help="yuan per elder per month served, e.g. 75")
    p_settle.add_argument("-o", "--output", required=True)
    p_settle.add_argument("--annex3", default=None)
    args = parser.parse_args(argv)
    try:
        the_engine = engine(args.catalogue) if args.catalogue else engine()
        if args.command == "check":
            answer = the_engine.check(_read_profile(args.profile))
            if args.text:
                from .engine import plan_text
                sys.stdout.write(plan_text(answer))
            else:
                json.dump(answer, sys.stdout, ensure_ascii=False, indent=2)
                sys.stdout.write("\n")
        elif args.command == "services":
            if not is_county_code(args.county):
                raise ProfileError("--county", "需要6位县级行政区划代码，例如 330324", "a 6-digit county code, e.g. 330324")
            services = the_engine.services_of(args.county)
            if services is None:
                known = ", ".join(f"{c}（{v['name']}）" for c, v in the_engine.catalogue["counties"].items())
                raise ProfileError("--county", f"{args.county} 不在目录中。目录中有：{known}",
                                   f"{args.county} is not in the catalogue; known: {known}")
            json.dump(services, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        elif args.command == "screen":
            from .screen import screen_file
            summary = screen_file(args.register, args.output, as_of=args.as_of, annex1=args.annex1, county=args.county)
            print(json.dumps(summary, ensure_ascii=False))
        elif args.command == "settle":
            from .settle import settle_file
            print(json.dumps(settle_file(args.served, args.output, args.per_person, annex3_path=args.annex3),
                             ensure_ascii=False))
    except ProfileError as err:
        print(f"输入有误 / bad input — {err.field}：{err.zh}\n{err.field}: {err.en}", file=sys.stderr)
        return 2
    except CatalogueMissing as err:
        print(str(err), file=sys.stderr)
        return 2
    except TableError as err:  # a file that cannot be read as a table at all
        print(f"文件有误 / bad file — {err.zh}\n{err.en}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader stopped reading (`… | head`): nothing more to say
        sys.stdout = None
        return 0
    except OSError as err:  # e.g. an output folder that does not exist
        where = err.filename or "输出 / output"
        print(f"文件读写失败 / cannot read or write a file — {where}：{err.strerror or err}\n"
              f"{where}: {err.strerror or err}", file=sys.stderr)
        return 2
    except (RecursionError, MemoryError) as err:
        print(f"输入太大或嵌套太深，无法处理 / the input is too large or nested too deeply ({type(err).__name__})",
              file=sys.stderr)
        return 2
    except Exception as err:  # a bug of ours: say so in both languages, still no traceback for the user
        print(f"程序出错了，请把这段话和输入文件一起报告 / internal error, please report it with the input — "
              f"{args.command}: {type(err).__name__}: {str(err)[:300]}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
