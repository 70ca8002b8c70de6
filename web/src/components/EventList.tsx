export function EventList({ events }: { events: string[] }) {
  if (events.includes('*')) return <span className="tag all">All events</span>;
  return (
    <ul className="tags">
      {events.map((e) => (
        <li key={e} className="tag">
          {e}
        </li>
      ))}
    </ul>
  );
}
