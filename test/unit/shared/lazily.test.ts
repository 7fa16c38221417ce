import { lazily } from '../../../lambdas/shared/lazily';

test('a lazy value is built on its first use, once, and kept', () => {
  const build = jest.fn(() => ({ built: true }));
  const value = lazily(build);
  expect(build).not.toHaveBeenCalled();
  const first = value();
  expect(value()).toBe(first);
  expect(build).toHaveBeenCalledTimes(1);
});

test('a value built as undefined is kept too, not built again', () => {
  const build = jest.fn((): undefined => undefined);
  const value = lazily(build);
  expect(value()).toBeUndefined();
  expect(value()).toBeUndefined();
  expect(build).toHaveBeenCalledTimes(1);
});

test('a build that throws is tried again on the next use', () => {
  let attempts = 0;
  const value = lazily(() => {
    attempts += 1;
    if (attempts === 1) throw new Error('first build fails');
    return attempts;
  });
  expect(() => value()).toThrow('first build fails');
  expect(value()).toBe(2);
  expect(value()).toBe(2);
});
