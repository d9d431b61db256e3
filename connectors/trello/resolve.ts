import { permanent } from '../../core/errors.ts';
import type { Trello } from './client.ts';

/** A list given by id, or by name on a board (case-insensitive). */
export async function resolveList(trello: Trello, list: string, board?: string): Promise<string> {
  if (/^[0-9a-f]{24}$/i.test(list)) return list;
  if (!board) throw permanent(`list "${list}" is not an id: give the board too, to find it by name`);
  const lists = (await trello.boards.getBoardLists({ id: board })) as { id: string; name: string }[];
  const hit = lists.find((l) => l.name.toLowerCase() === list.toLowerCase());
  if (!hit) throw permanent(`board ${board} has no list named "${list}" (lists: ${lists.map((l) => l.name).join(', ')})`);
  return hit.id;
}

/** Label ids from ids or names on the board. */
export async function resolveLabels(trello: Trello, labels: string[], board?: string): Promise<string[]> {
  if (labels.every((l) => /^[0-9a-f]{24}$/i.test(l))) return labels;
  if (!board) throw permanent('labels given by name need the board');
  const all = (await trello.boards.getBoardLabels({ id: board })) as { id: string; name: string; color?: string }[];
  return labels.map((l) => {
    if (/^[0-9a-f]{24}$/i.test(l)) return l;
    const hit = all.find((x) => x.name.toLowerCase() === l.toLowerCase() || x.color === l.toLowerCase());
    if (!hit) throw permanent(`board ${board} has no label "${l}"`);
    return hit.id;
  });
}

/** Member ids from usernames. */
export async function resolveMembers(trello: Trello, usernames: string[]): Promise<string[]> {
  return Promise.all(
    usernames.map(async (u) => {
      if (/^[0-9a-f]{24}$/i.test(u)) return u;
      const m = (await trello.members.getMember({ id: u.replace(/^@/, '') })) as { id: string };
      return m.id;
    }),
  );
}
