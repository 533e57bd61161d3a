import random from 'lodash/random';
import { pickWinner, rollDice } from '../src/dice';

// No jest.mock() call here: <rootDir>/__mocks__/lodash/random.js is used automatically.
const mockedRandom = jest.mocked(random);

describe('dice (root __mocks__ for lodash/random)', () => {
  beforeEach(() => {
    mockedRandom.mockClear();
  });

  it('uses the deterministic manual mock automatically', () => {
    expect(jest.isMockFunction(random)).toBe(true);
    expect(rollDice(3)).toEqual([3, 3, 3]);
    expect(rollDice(2, 20)).toEqual([10, 10]);
    expect(mockedRandom).toHaveBeenCalledTimes(5);
    expect(mockedRandom).toHaveBeenLastCalledWith(1, 20);
  });

  it('lets a test override single results', () => {
    mockedRandom.mockReturnValueOnce(6).mockReturnValueOnce(1);
    expect(rollDice(3)).toEqual([6, 1, 3]);
  });

  it('picks the winner through the mocked random index', () => {
    expect(pickWinner(['ann', 'ben', 'cy', 'dee', 'eve'])).toBe('cy');
    mockedRandom.mockReturnValueOnce(0);
    expect(pickWinner(['ann', 'ben'])).toBe('ann');
    expect(() => pickWinner([])).toThrow('no players');
  });

  it('still reaches the real module through jest.requireActual', () => {
    const realRandom = jest.requireActual<typeof random>('lodash/random');
    expect(jest.isMockFunction(realRandom)).toBe(false);
    const value = realRandom(1, 6);
    expect(value).toBeGreaterThanOrEqual(1);
    expect(value).toBeLessThanOrEqual(6);
  });
});
