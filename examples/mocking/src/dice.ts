import random from 'lodash/random';

export function rollDice(count: number, sides = 6): number[] {
  return Array.from({ length: count }, () => random(1, sides));
}

export function pickWinner<T>(players: T[]): T {
  if (players.length === 0) throw new Error('no players');
  return players[random(0, players.length - 1)];
}
