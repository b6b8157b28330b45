#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Prepare a Linux 6.12 tree with our files overlaid and the changes the
# series (patches/series) makes to existing files applied.
#
# The pristine tree is unpacked once per linux-source package version under
# $CACHE. The work tree is a hard-linked copy of it; every run rebuilds the
# set of changed files in a staging directory and copies over only those whose
# content differs, so unchanged files keep their mtimes and kbuild (with the
# build directory kept next to it) rebuilds incrementally.
#
# Prints the path of the work tree on its last line.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${DMA_IOVA_CACHE:-$HOME/.cache/dma-iova}
tarball=/usr/src/linux-source-6.12.tar.xz

[ -f "$tarball" ] || { echo "missing $tarball: apt-get install linux-source-6.12" >&2; exit 1; }
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || stat -c %s "$tarball")
pristine=$CACHE/pristine-$ver
work=$CACHE/work-$ver
mkdir -p "$CACHE"
# One unpack and overlay at a time; a build reading the tree meanwhile
# sees each file whole, old or new (renamed into place).
exec 9> "$CACHE/work-$ver.lock"
flock 9

if [ ! -f "$pristine/.unpacked" ]; then
	echo ">> unpacking linux-source-6.12 $ver into $pristine" >&2
	rm -rf "$pristine" "$pristine.tmp"
	mkdir -p "$pristine.tmp"
	tar -xJf "$tarball" -C "$pristine.tmp" --strip-components=1
	mv "$pristine.tmp" "$pristine"
	touch "$pristine/.unpacked"
fi

if [ ! -f "$work/.ready" ]; then
	echo ">> creating work tree $work" >&2
	rm -rf "$work"
	cp -al "$pristine" "$work"
	rm -f "$work/.unpacked"
	touch "$work/.ready"
fi

# Our own kernel files: everything under these directories of the repo.
overlay_dirs="include kernel block drivers lib mm Documentation"
stage=$(mktemp -d)
trap 'rm -rf "$stage" "$stage".list.* "$stage.patches"' EXIT

(cd "$repo" && for d in $overlay_dirs; do [ -d "$d" ] && find "$d" -type f; done) |
	sort > "$stage.list.own"
# The series adds exactly our files (patches/series says which patch).
python3 "$repo/scripts/series.py" files | sort > "$stage.list.series"
if ! cmp -s "$stage.list.own" "$stage.list.series"; then
	echo "patches/series does not list exactly our kernel files:" >&2
	diff "$stage.list.own" "$stage.list.series" >&2
	exit 1
fi
# Each patch without its hunks to our files, which are final already.
mkdir "$stage.patches"
grep -E '^[^#[:space:]]' "$repo/patches/series" > "$stage.list.patches"
while read -r p; do
	python3 "$repo/scripts/series.py" existing "$p" > "$stage.patches/$p"
done < "$stage.list.patches"
cat "$stage.patches"/* | grep -E '^\+\+\+ b/' | sed -e 's|^+++ b/||' -e 's|\t.*||' |
	sort -u > "$stage.list.patched"

# Patched files start from the pristine copy.
while read -r f; do
	mkdir -p "$stage/$(dirname "$f")"
	if [ -f "$pristine/$f" ]; then cp "$pristine/$f" "$stage/$f"; fi
done < "$stage.list.patched"
while read -r f; do
	mkdir -p "$stage/$(dirname "$f")"
	cp "$repo/$f" "$stage/$f"
done < "$stage.list.own"
while read -r p; do
	[ -s "$stage.patches/$p" ] || continue
	patch -s -p1 -d "$stage" --no-backup-if-mismatch < "$stage.patches/$p" ||
		{ echo "patch failed: $p" >&2; exit 1; }
done < "$stage.list.patches"

# Files we touched last time but no longer do go back to pristine.
cat "$stage.list.own" "$stage.list.patched" | sort -u > "$stage.list.now"
if [ -f "$work/.dma-iova-files" ]; then
	comm -23 "$work/.dma-iova-files" "$stage.list.now" | while read -r f; do
		if [ -f "$pristine/$f" ]; then
			# a new mtime: the object built from our form is stale
			cp "$pristine/$f" "$work/$f.$$"
			mv -f "$work/$f.$$" "$work/$f"
		else
			rm -f "$work/$f"
		fi
	done
fi
# Copy what differs; replace (never write through) hard links.
(cd "$stage" && find . -type f) | while read -r f; do
	if ! cmp -s "$stage/$f" "$work/$f"; then
		mkdir -p "$(dirname "$work/$f")"
		# never written through: work files are hard links to pristine
		cp "$stage/$f" "$work/$f.$$"
		mv -f "$work/$f.$$" "$work/$f"
	fi
done
# renamed into place: a second run at the same time reads all of it or none
cp "$stage.list.now" "$work/.dma-iova-files.$$"
mv "$work/.dma-iova-files.$$" "$work/.dma-iova-files"
rm -rf "$stage".list.* "$stage.patches"
echo "$work"
