/// A first-in first-out queue whose `popFirst` costs O(1): the dispatches waiting for a worker
/// slot. `Array.removeFirst` moved every other waiter along, once per answer: with thousands
/// of instances waiting, that memmove was ~4% of the runner's CPU.
struct FIFOQueue<Element> {
    private var items: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }

    mutating func append(_ item: Element) {
        items.append(item)
    }

    /// Puts an item back at the head (the one just popped, which could not be served).
    mutating func prepend(_ item: Element) {
        if head > 0 {
            head -= 1
            items[head] = item
        } else {
            items.insert(item, at: 0)
        }
    }

    mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        // Taken items are dropped once they are half the storage: amortised O(1).
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    /// Every item, in order, leaving the queue empty.
    mutating func removeAll() -> ArraySlice<Element> {
        let all = items[head...]
        items = []
        head = 0
        return all
    }
}
