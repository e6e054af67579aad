#!/bin/sh
# Steps of the CRIU lineage test, run inside the CRIU container by CriuLineageIT. This kernel has
# no soft-dirty tracking, so criu cannot make incremental dumps here: the three dumps of a chain
# are made with CRIU's own image tool instead, pagemaps encoded by `crit encode` from JSON.
#   check     crit is there (else says how to get it, exit 1)
#   make      /lineage/ckpt-1..3: pagemap-1.img (crit), pages-1.img, core-1.img; ckpt-2 and ckpt-3
#             have a `parent` link to the one before (../ckpt-N); prints the pagemaps as crit decodes them
#   put       puts the three, in order, as lineage/ckpt-1..3; prints `cairn stat lineage/ckpt-3 --json`
#   rm        `cairn rm lineage/ckpt-1` must be refused; prints its message
#   chain     `cairn get lineage/ckpt-3 /restore/ckpt-3`; the three directories must be the dumps, links included
#   flatten   `cairn get --flatten lineage/ckpt-3 /flat`; checks with `crit decode` that no entry is
#             in-parent and that every page holds the bytes of the dump that last wrote it
set -u
cairn() {
  /opt/jdk/bin/java -cp "/opt/cairn/client/cairn-client.jar:/opt/cairn/client/lib/*" dev.cairn.client.cli.CairnCli "$@"
}

# The chain, page by page: which pages each dump holds itself (present, maybe lazy) and which it
# leaves to its parent (in the new flags, or in the old in_parent bool in ckpt-2). Page k of dump
# N holds the text "ckpt-N page k", repeated.
python_chain='
BASE = 0x7f0000000000
PAGE = 4096
CHAIN = {
    "ckpt-1": [(0, 4, {"flags": "PE_PRESENT"}), (8, 2, {"flags": "PE_LAZY | PE_PRESENT"})],
    "ckpt-2": [(0, 2, {"flags": "PE_PRESENT"}), (2, 2, {"in_parent": True}), (8, 2, {"flags": "PE_PARENT"}),
               (20, 1, {"flags": "PE_PRESENT"})],
    "ckpt-3": [(0, 4, {"flags": "PE_PARENT"}), (8, 1, {"flags": "PE_PARENT"}),
               (9, 1, {"flags": "PE_LAZY | PE_PRESENT"}), (20, 1, {"flags": "PE_PARENT"})],
}
ORDER = ["ckpt-1", "ckpt-2", "ckpt-3"]

def present(kind):
    return "flags" in kind and "PE_PRESENT" in kind["flags"]

def label(dump, page):
    text = ("%s page %d " % (dump, page)).encode()
    return (text * (PAGE // len(text) + 1))[:PAGE]

def owner(dump, page):
    """The dump whose own pages hold page `page` as `dump` sees it, walking up the chain."""
    for start, count, kind in CHAIN[dump]:
        if start <= page < start + count:
            if present(kind):
                return dump
            return owner(ORDER[ORDER.index(dump) - 1], page)
    raise SystemExit("%s has no page %d" % (dump, page))
'

case "$1" in
  check)
    if ! command -v crit >/dev/null 2>&1; then
      echo "crit (CRIU's image tool, Debian package python3-pycriu) is not in this image; run chaos-tests/setup-docker.sh, which rebuilds an image that lacks it" >&2
      exit 1
    fi
    crit --version 2>&1 | head -1 ;;
  make)
    rm -rf /lineage && mkdir -p /lineage
    python3 -c "$python_chain
import json, os, subprocess
for dump in ORDER:
    d = '/lineage/' + dump
    os.makedirs(d)
    entries = [{'pages_id': 1}]
    pages = b''
    for start, count, kind in CHAIN[dump]:
        entry = {'vaddr': hex(BASE + start * PAGE), 'nr_pages': count}
        entry.update(kind)
        entries.append(entry)
        if present(kind):
            pages += b''.join(label(dump, start + i) for i in range(count))
    with open(d + '/pagemap-1.json', 'w') as f:
        json.dump({'magic': 'PAGEMAP', 'entries': entries}, f)
    subprocess.run(['crit', 'encode', '-i', d + '/pagemap-1.json', '-o', d + '/pagemap-1.img'], check=True)
    os.remove(d + '/pagemap-1.json')
    with open(d + '/pages-1.img', 'wb') as f:
        f.write(pages)
    with open(d + '/core-1.img', 'w') as f:
        f.write('core of ' + dump)
    if dump != 'ckpt-1':
        os.symlink('../' + ORDER[ORDER.index(dump) - 1], d + '/parent')
" || exit 1
    for n in 1 2 3; do crit decode -i /lineage/ckpt-$n/pagemap-1.img; done ;;
  put)
    for n in 1 2 3; do cairn put "lineage/ckpt-$n" "/lineage/ckpt-$n" || exit 1; done
    cairn stat lineage/ckpt-3 --json ;;
  rm)
    if cairn rm lineage/ckpt-1 >/tmp/rm.out 2>&1; then
      echo "cairn rm of a parent was not refused: $(cat /tmp/rm.out)" >&2
      exit 1
    fi
    cat /tmp/rm.out ;;
  chain)
    rm -rf /restore && mkdir -p /restore
    cairn get lineage/ckpt-3 /restore/ckpt-3 || exit 1
    for n in 1 2 3; do
      diff -r --no-dereference "/lineage/ckpt-$n" "/restore/ckpt-$n" >&2 || { echo "ckpt-$n differs" >&2; exit 1; }
    done
    readlink /restore/ckpt-3/parent /restore/ckpt-2/parent ;;
  flatten)
    rm -rf /flat
    cairn get --flatten lineage/ckpt-3 /flat || exit 1
    if [ -e /flat/parent ] || [ -L /flat/parent ]; then echo "the flattened image still has a parent link" >&2; exit 1; fi
    crit decode -i /flat/pagemap-1.img > /flat.json || exit 1
    python3 -c "$python_chain
import json
entries = json.load(open('/flat.json'))['entries']
pages = open('/flat/pages-1.img', 'rb').read()
at = 0
checked = 0
for e in entries[1:]:
    if e.get('in_parent') or e.get('flags', 0) & 1:
        raise SystemExit('entry %s is still in-parent' % e)
    if not e.get('flags', 0) & 4:
        raise SystemExit('entry %s is not present' % e)
    for i in range(e['nr_pages']):
        page = (e['vaddr'] - BASE) // PAGE + i
        want = label(owner('ckpt-3', page), page)
        if pages[at:at + PAGE] != want:
            raise SystemExit('page %d holds %r, not the page of %s' % (page, pages[at:at + 20], owner('ckpt-3', page)))
        at += PAGE
        checked += 1
if at != len(pages):
    raise SystemExit('pages-1.img has %d bytes past the pages its pagemap names' % (len(pages) - at))
if checked != 7:
    raise SystemExit('the flattened pagemap names %d pages, not the 7 of ckpt-3' % checked)
print('%d entries, %d pages, none in-parent, every page from the dump that wrote it' % (len(entries) - 1, checked))
" || exit 1
    cat /flat.json ;;
  *) echo "usage: $0 check|make|put|rm|chain|flatten" >&2; exit 2 ;;
esac
