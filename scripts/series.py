#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The patch series, as patches/series describes it.

patches/series lists the patches in order; under each, indented, the files
of this repository the patch adds. A patch in patches/ holds a subject, a
commit message and a diff of the files it changes: files 6.12 has, and
files of this repository that an earlier patch added (a Makefile line, a
kernel-doc directive arriving with the file it reads). The repository holds
every file in its final form; the form a file is added in is the final one
with the later patches' hunks for it reversed.

  series.py files              the files the series adds, one a line
  series.py existing PATCH     PATCH without its hunks to files we add
  series.py build GITDIR       commit the series onto GITDIR's HEAD
"""
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATCHES = os.path.join(REPO, 'patches')


def read_series():
    """[(patch file name, [files it adds])] in order."""
    steps = []
    with open(os.path.join(PATCHES, 'series')) as f:
        for line in f:
            if not line.strip() or line.startswith('#'):
                continue
            if line[0].isspace():
                steps[-1][1].append(line.strip())
            else:
                steps.append((line.strip(), []))
    return steps


def sections(path):
    """(message, [(file, diff text)]) of a patch in patches/."""
    with open(os.path.join(PATCHES, path)) as f:
        text = f.read()
    head, sep, diff = text.partition('\n---\n')
    if not sep or not head.startswith('Subject: '):
        sys.exit('%s: no "Subject:" header ending in "---"' % path)
    parts = []
    for chunk in ('\n' + diff).split('\ndiff --git ')[1:]:
        name = chunk.split('\n', 1)[0].split(' b/', 1)[1]
        parts.append((name, 'diff --git ' + chunk.rstrip('\n') + '\n'))
    return head[len('Subject: '):].strip() + '\n', parts


def added_files():
    return [f for _, files in read_series() for f in files]


def existing(path):
    ours = set(added_files())
    _, parts = sections(path)
    sys.stdout.write(''.join(d for name, d in parts if name not in ours))


def run(*args, **kw):
    subprocess.run(args, check=True, **kw)


def first_forms(workdir):
    """Write each added file, as its patch adds it, under workdir/<step>/."""
    steps = read_series()
    ours = set(added_files())
    cur = os.path.join(workdir, 'cur')
    for f in ours:
        os.makedirs(os.path.dirname(os.path.join(cur, f)), exist_ok=True)
        shutil.copy(os.path.join(REPO, f), os.path.join(cur, f))
    for k in range(len(steps) - 1, -1, -1):
        name, files = steps[k]
        for f in files:
            dst = os.path.join(workdir, str(k), f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(os.path.join(cur, f), dst)
        _, parts = sections(name)
        back = ''.join(d for n, d in parts if n in ours)
        if back:
            run('patch', '-R', '-s', '-p1', '-d', cur,
                '--no-backup-if-mismatch', input=back.encode())


def build(gitdir):
    steps = read_series()
    with tempfile.TemporaryDirectory() as tmp:
        first_forms(tmp)
        for k, (name, files) in enumerate(steps):
            msg, parts = sections(name)
            for f in files:
                dst = os.path.join(gitdir, f)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy(os.path.join(tmp, str(k), f), dst)
            if parts:
                run('git', 'apply', '--index', '-',
                    input=''.join(d for _, d in parts).encode(), cwd=gitdir)
            if files:
                run('git', 'add', '-f', '--', *files, cwd=gitdir)
            run('git', 'commit', '-q', '-s', '-F', '-', input=msg.encode(),
                cwd=gitdir)


def main():
    if len(sys.argv) == 2 and sys.argv[1] == 'files':
        print('\n'.join(added_files()))
    elif len(sys.argv) == 3 and sys.argv[1] == 'existing':
        existing(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == 'build':
        build(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
