/**
 * The id that follows one change through the logs, from the API or a file
 * reload through compile, push and each proxy's ACK or NACK (issue 9):
 * `chg-<revision>`, since one accepted change is one revision of the store,
 * and the id stays the same after a restart.
 */
export function changeIdOf(revision: number): string {
  return `chg-${revision}`;
}
