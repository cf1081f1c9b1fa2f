/**
 * `skiff image pull|import|ls|rm` — the node's image store, as the agent uses it
 * (`<data-dir>/agent/images`). Output follows `crictl images` / `crictl rmi`.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ImageService, type Image, type LayerProgress } from '../kubelet/index.ts';
import { defaultDataDir } from '../server/index.ts';

const USAGE = `Usage: skiff image <command> [flags]

Commands:
  pull REF        pull an image from a registry (REF: name[:tag] or name@sha256:...)
  import FILE     import an OCI image archive or a 'docker save' archive
  ls              list images (REPOSITORY TAG IMAGE ID SIZE)
  rm REF...       remove images (by name, digest or id) and the content only they use

Flags:
  --data-dir DIR              where state lives (default /var/lib/skiff as root, ~/.skiff otherwise)
  --insecure-registry HOST:PORT
                              speak plain HTTP to this registry (repeatable; loopback registries always are)
  --username U, --password P  registry credentials for pull
  -q, --quiet                 ls: print image ids only
`;

/** `size` as crictl prints it: decimal units, three significant digits (`1.06MB`). */
export function humanSize(size: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(3))}${units[unit]}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

function imageRows(images: Image[]): string[][] {
  const rows: string[][] = [['REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE']];
  for (const image of images) {
    const id = image.id.slice(7, 20);
    const size = humanSize(image.size);
    if (image.repoTags.length === 0) {
      const repo = image.repoDigests[0]?.split('@')[0] ?? '<none>';
      rows.push([repo, '<none>', id, size]);
    }
    for (const tag of image.repoTags) {
      const colon = tag.lastIndexOf(':');
      rows.push([tag.slice(0, colon), tag.slice(colon + 1), id, size]);
    }
  }
  return rows;
}

/** Draws per-layer progress: redrawn bars on a terminal, one line per state change otherwise. */
function progressPrinter(out: NodeJS.WriteStream): { update: (p: LayerProgress) => void; finish: () => void } {
  const layers = new Map<string, LayerProgress>();
  const lastStatus = new Map<string, string>();
  let drawn = 0;
  let lastDraw = 0;
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const width = 30;
    const lines = [...layers.values()]
      .sort((a, b) => a.index - b.index)
      .map((p) => {
        const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
        const filled = Math.round(fraction * width);
        const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (fraction < 1 ? '>' : '=') : ''}${' '.repeat(width - filled)}]`;
        const label = p.status === 'exists' ? 'already present' : p.status === 'done' ? 'done' : p.status;
        return `${p.digest.slice(7, 19)}: ${label.padEnd(15)} ${bar} ${humanSize(p.done)}/${humanSize(p.total)}`;
      });
    out.write((drawn > 0 ? `\x1b[${drawn}A` : '') + lines.map((l) => `\x1b[2K${l}\n`).join(''));
    drawn = lines.length;
  };
  return {
    update(p) {
      if (out.isTTY) {
        layers.set(p.digest, p);
        draw(p.status !== 'downloading');
      } else if (lastStatus.get(p.digest) !== p.status) {
        lastStatus.set(p.digest, p.status);
        const what = p.status === 'exists' ? 'already present' : p.status;
        out.write(`${p.digest.slice(7, 19)}: ${what} (${humanSize(p.total)})\n`);
      }
    },
    finish() {
      if (out.isTTY && layers.size > 0) draw(true);
    },
  };
}

/** Runs `skiff image …`; returns the exit code. */
export async function imageCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string', short: 'd' },
      'insecure-registry': { type: 'string', multiple: true },
      username: { type: 'string', short: 'u' },
      password: { type: 'string', short: 'p' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [command, ...operands] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 1 : 0;
  }
  const service = await ImageService.open({
    root: join(values['data-dir'] ?? defaultDataDir(), 'agent', 'images'),
    insecureRegistries: values['insecure-registry'] ?? [],
  });
  switch (command) {
    case 'pull': {
      if (operands.length !== 1) throw new TypeError('skiff image pull: give exactly one image reference');
      const progress = progressPrinter(process.stdout);
      const credentials = values.username !== undefined ? [{ username: values.username, password: values.password ?? '' }] : [];
      const image = await service.pull(operands[0]!, { credentials, onProgress: progress.update });
      progress.finish();
      process.stdout.write(`Image is up to date for ${service.imageRef(image)} (id ${image.id})\n`);
      return 0;
    }
    case 'import': {
      if (operands.length !== 1) throw new TypeError('skiff image import: give exactly one archive file');
      const progress = progressPrinter(process.stdout);
      const images = await service.import(operands[0]!, { onProgress: progress.update });
      progress.finish();
      for (const image of images) process.stdout.write(`Imported ${image.repoTags.join(', ') || image.id} (id ${image.id})\n`);
      return 0;
    }
    case 'ls':
    case 'list':
    case 'images': {
      const images = await service.list();
      if (values.quiet) process.stdout.write(images.map((i) => `${i.id}\n`).join(''));
      else process.stdout.write(table(imageRows(images)));
      return 0;
    }
    case 'rm':
    case 'rmi': {
      if (operands.length === 0) throw new TypeError('skiff image rm: give at least one image');
      let code = 0;
      for (const ref of operands) {
        const image = await service.get(ref);
        if (image === undefined) {
          process.stderr.write(`skiff image rm: no such image: ${ref}\n`);
          code = 1;
          continue;
        }
        await service.remove(image.id);
        for (const name of image.repoTags.length > 0 ? image.repoTags : [image.id]) process.stdout.write(`Deleted: ${name}\n`);
      }
      return code;
    }
    default:
      process.stderr.write(`skiff image: unknown command "${command}"\n${USAGE}`);
      return 1;
  }
}
