/** The platform of every chat the edge relays today. */
export const IMESSAGE_PREFIX = 'imessage:';

/**
 * Stored chat GUIDs carry their platform prefix. Clients send plain GUIDs (`+1555…`,
 * `chat123…`, `iMessage;-;…`); a GUID that already has a prefix is kept as it is.
 */
export function prefixedChatGuid(guid: string): string {
  return /^[a-z][a-z0-9_-]*:/.test(guid) ? guid : `${IMESSAGE_PREFIX}${guid}`;
}
