"""Command line: ``python3 -m recorder_reader inspect FILE.h5 [--json] [--contact-sheet OUT.png] [--timeline OUT.png]``.

FILE may be a split session's ``NAME.manifest.json`` (or the ``--output`` path it was recorded
with) wherever a whole session is read: inspect, frame and export read its parts as one sequence.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from .parts import is_split_path, open_any
from .session import FormatError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recorder-reader", description="Read recorder session files.")
    commands = parser.add_subparsers(dest="command", required=True)

    inspect = commands.add_parser("inspect", help="summarise a session; optionally draw a contact sheet and a timeline")
    inspect.add_argument("file", help="session file (.h5), or a split session's NAME.manifest.json")
    inspect.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    inspect.add_argument("--contact-sheet", metavar="OUT.png", help="write thumbnails of evenly spaced frames")
    inspect.add_argument("--frames", type=int, default=12, metavar="N", help="thumbnails on the contact sheet (12)")
    inspect.add_argument("--columns", type=int, default=4, help="contact sheet columns (4)")
    inspect.add_argument("--thumb-width", type=int, default=240, help="thumbnail width in pixels (240)")
    inspect.add_argument("--timeline", metavar="OUT.png", help="write a plot of input, frame intervals and state")
    inspect.add_argument("--allow-missing", action="store_true",
                         help="split session: read the parts there are, listing missing ones as gaps")

    frame = commands.add_parser("frame", help="write one decoded frame as a PNG")
    frame.add_argument("file")
    frame.add_argument("index", type=int, help="frame index (negative counts from the end)")
    frame.add_argument("output", metavar="OUT.png")
    frame.add_argument("--allow-missing", action="store_true", help="split session: skip missing parts")

    export = commands.add_parser("export", help="export for annotation tools: mp4, lossless, rerun, label-studio")
    export.add_argument("file")
    export.add_argument("--to", required=True, choices=("mp4", "lossless", "rerun", "label-studio"))
    export.add_argument("--output", required=True, metavar="PATH")
    export.add_argument("--lossless-codec", choices=("libx264rgb", "ffv1"), default="libx264rgb")
    export.add_argument("--label", action="append", metavar="NAME", help="label-studio: a label to offer (repeatable)")
    export.add_argument("--url-prefix", help="label-studio: prefix of the task URLs (default: local-files storage)")
    export.add_argument("--json", action="store_true", help="print the result as one JSON object")

    labels = commands.add_parser("labels", help="import or export a label set (/annotations/NAME)")
    label_commands = labels.add_subparsers(dest="labels_command", required=True)
    label_import = label_commands.add_parser("import", help="Label Studio JSON export or CSV t_start_s,t_end_s,label")
    label_import.add_argument("file")
    label_import.add_argument("--set", required=True, dest="set_name", metavar="NAME")
    label_import.add_argument("labels", metavar="LABELS")
    label_export = label_commands.add_parser("export", help="write a label set as JSON")
    label_export.add_argument("file")
    label_export.add_argument("--set", required=True, dest="set_name", metavar="NAME")
    label_export.add_argument("--output", required=True, metavar="LABELS.json")
    return parser


def _tools(args: argparse.Namespace) -> int:
    """export and labels: a sentence on stderr and exit 1 for anything the user can fix."""
    import signal

    from .export import ExportError, export
    from .labels import LabelError, export_labels, import_labels

    # SIGTERM unwinds like Ctrl-C, so the partial output and temporary files are removed on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if args.command == "labels" and is_split_path(args.file):
        print("recorder labels: %s is a split session: a label set goes into one session file; use the part "
              "(NAME.partNNNN.h5) that holds the labelled time" % args.file, file=sys.stderr)
        return 1
    try:
        if args.command == "export":
            result = export(args.file, args.to, args.output, codec=args.lossless_codec, labels=args.label,
                            url_prefix=args.url_prefix)
        elif args.labels_command == "import":
            result = import_labels(args.file, args.set_name, args.labels)
        else:
            result = export_labels(args.file, args.set_name, args.output)
    except (ExportError, LabelError, OSError, FormatError) as error:
        print("recorder %s: %s" % (args.command, error), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("recorder %s: interrupted" % args.command, file=sys.stderr)
        return 128 + signal.SIGINT
    if getattr(args, "json", False):
        print(json.dumps(result, sort_keys=True))
    else:
        print(" ".join("%s=%s" % (k, v) for k, v in sorted(result.items()) if not isinstance(v, (dict, list))))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("export", "labels"):
        return _tools(args)
    try:
        options = {"allow_missing": True} if args.allow_missing and is_split_path(args.file) else {}
        with open_any(args.file, **options) as session:
            if args.command == "frame":
                from PIL import Image

                Image.fromarray(session.frame(args.index), "RGB").save(args.output, format="PNG")
                print(args.output)
                return 0
            from .report import format_summary, write_contact_sheet, write_timeline

            summary = session.summary()
            if args.contact_sheet:
                size = write_contact_sheet(session, args.contact_sheet, count=args.frames,
                                           columns=args.columns, thumb_width=args.thumb_width)
                summary["contact_sheet"] = {"path": args.contact_sheet, "width": size[0], "height": size[1]}
            if args.timeline:
                size = write_timeline(session, args.timeline)
                summary["timeline"] = {"path": args.timeline, "width": size[0], "height": size[1]}
    except (OSError, FormatError, IndexError, ValueError) as error:
        print("recorder-reader: %s" % error, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(format_summary(summary))
        for key in ("contact_sheet", "timeline"):
            if key in summary:
                print("%-18s %s (%dx%d)" % (key.replace("_", " "), summary[key]["path"],
                                            summary[key]["width"], summary[key]["height"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
