import { describe, expect, it } from '@jest/globals';
import { session } from './fake-kube.test-util.js';
import { imagesCell, summaryRow } from './summary.js';

describe('summary', () => {
  it('shows the built tag per image and the status columns', () => {
    const s = session('web');
    s.status = {
      phase: 'Ready',
      deploymentsReady: '2/2',
      message: '2/2 deployments\nready',
      images: [
        { name: 'api', image: 'reg:5000/team/api:dsa-0123456789ab', phase: 'Succeeded' },
        { name: 'ui', phase: 'Building' },
      ],
    };
    expect(imagesCell(s)).toBe('api=dsa-0123456789ab,ui=Building');
    expect(summaryRow(s)).toEqual(['web', 'dev', 'Ready', 'api=dsa-0123456789ab,ui=Building', '2/2', '2/2 deployments ready']);
    expect(imagesCell(session('none'))).toBe('-');
  });
});
